"""Documentation derived from the field table stays in sync; the standard's tables load."""

from __future__ import annotations

import re

from conftest import ROOT

from dicomreg.core.dicom import iod_requirements
from dicomreg.core.fields import field_reference


def test_field_reference_is_up_to_date():
    written = (ROOT / "docs" / "fields.md").read_text(encoding="utf-8")
    assert written == field_reference(markdown=True), (
        "docs/fields.md is stale: run 'dicomreg fields --markdown > docs/fields.md'")


def test_highdicom_tables_give_the_types_we_rely_on():
    types = {(r.keyword, r.path): r.type for r in iod_requirements()}
    assert types[("ContentLabel", ())] == "1"
    assert types[("DeviceSerialNumber", ())] == "1"
    assert types[("Laterality", ())] == "2C"
    grid = ("DeformableRegistrationSequence", "DeformableRegistrationGridSequence")
    assert types[("VectorGridData", grid)] == "1"
    assert types[("RegistrationTypeCodeSequence", ("DeformableRegistrationSequence",))] == "2"


def _readme_block(readme: str, marker: str) -> str:
    """The ``sh`` block after the README's marker comment, as .ci/run reads it."""
    after = readme[readme.index(marker):]
    start = after.index("```sh\n") + len("```sh\n")
    return after[start:after.index("```", start)].strip()


def test_ci_runs_the_readmes_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    main_job = _readme_block(readme, "<!-- the main job:")
    test_command = _readme_block(readme, "<!-- the test command:")
    assert main_job.endswith("dicomreg run example_flows/reg_from_field.json")
    assert "python3 -m venv .venv" in main_job and "python3 -m venv .venv" in test_command
    assert test_command.endswith("pytest")
    assert 'readme_block "the main job:"' in ci and 'readme_block "the test command:"' in ci
    assert 'bash -euo pipefail -c "$main_job"' in ci
    assert 'bash -euo pipefail -c "$test_command"' in ci


def test_requirements_are_cached_between_processes(tmp_path, monkeypatch):
    from dicomreg.core.dicom import standard

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    derived = tuple(standard._derive_requirements(standard.IOD_KEY))
    standard.iod_requirements.cache_clear()
    try:
        assert standard.iod_requirements() == derived
        cached = standard._requirements_cache(standard.IOD_KEY)
        assert cached.is_file() and cached.parent == tmp_path / "dicomreg"
        standard.iod_requirements.cache_clear()
        assert standard.iod_requirements() == derived  # read back from the cache
        cached.write_text("not json")
        standard.iod_requirements.cache_clear()
        assert standard.iod_requirements() == derived  # a broken cache is recomputed
    finally:
        standard.iod_requirements.cache_clear()


def test_every_path_the_architecture_page_names_exists():
    """docs/architecture.md is a newcomer's map: a path it names must be there."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:core|nodes|widgets|tests|docs)/[\w/.]*)`", text))
    # a file named in a folder's table row, e.g. `table.py` in the `core/fields/` row
    for folder, row in re.findall(r"^\| `((?:core|nodes|widgets)/[\w/]*)` \| (.*) \|$", text,
                                  re.M):
        named |= {folder + name for name in re.findall(r"`([\w]+\.py)`", row)}
    missing = sorted(p for p in named if not (ROOT / p.rstrip("/")).exists())
    assert len(named) > 40 and missing == []
