"""Documentation derived from the field table stays in sync; the standard's tables load."""

from __future__ import annotations

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


def test_readme_names_the_test_command_that_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line.strip() for line in ci.splitlines()
                   if "pytest" in line and not line.lstrip().startswith("#"))
    assert command in readme


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
