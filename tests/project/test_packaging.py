"""The distribution holds what a user needs: every module, the node package, the metadata.

The wheel and the sdist are built from a copy of the source tree (so that the build leaves
nothing in it), and the wheel is then run on its own, without the checkout: ``dicomreg save``
and every example flow from a temporary copy of ``example_flows/``. CI goes further and runs
the whole suite against the wheel installed in a fresh virtual environment.
"""

from __future__ import annotations

import email
import importlib.util
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

SOURCE_FOLDERS = {"core": "dicomreg/core", "nodes": "dicomreg/nodes",
                  "widgets": "dicomreg/widgets"}
_IGNORED = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*.egg-info", "build",
                                  "dist", ".hypothesis", ".pytest_cache", ".ruff_cache",
                                  "out", "bench")


@pytest.fixture(scope="module")
def distributions(tmp_path_factory) -> dict[str, Path]:
    """The sdist, and the wheel built from it (as ``python -m build`` does)."""
    work = tmp_path_factory.mktemp("build")
    tree = work / "tree"
    # What the build reads, and nothing that other tests or tools may be writing meanwhile.
    for folder in SOURCE_FOLDERS:
        shutil.copytree(ROOT / folder, tree / folder, ignore=_IGNORED)
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, tree / name)
    completed = subprocess.run([sys.executable, "-m", "build", "--outdir", str(work / "dist"),
                                str(tree)], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return {"wheel": next((work / "dist").glob("*.whl")),
            "sdist": next((work / "dist").glob("*.tar.gz"))}


def _source_modules() -> set[str]:
    return {str(Path(SOURCE_FOLDERS[path.relative_to(ROOT).parts[0]],
                     *path.relative_to(ROOT).parts[1:]))
            for folder in SOURCE_FOLDERS for path in (ROOT / folder).rglob("*.py")
            if "__pycache__" not in path.parts}


def test_the_wheel_holds_every_module_and_the_node_package(distributions):
    names = set(zipfile.ZipFile(distributions["wheel"]).namelist())
    missing = _source_modules() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert "dicomreg/nodes/ryven_package/dicomreg_nodes/nodes.py" in names
    assert not [n for n in names if n.startswith(("tests/", "core/", "nodes/", "widgets/"))]


def test_the_sdist_holds_the_sources_and_the_build_files(distributions):
    with tarfile.open(distributions["sdist"]) as sdist:
        names = {Path(*Path(n).parts[1:]).as_posix() for n in sdist.getnames()}
    expected = {f"{folder}/{Path(m).relative_to(prefix).as_posix()}"
                for folder, prefix in SOURCE_FOLDERS.items()
                for m in _source_modules() if m.startswith(prefix + "/")}
    assert not expected - names
    assert {"setup.py", "pyproject.toml", "README.md", "LICENSE"} <= names


def test_the_wheel_metadata(distributions):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    with zipfile.ZipFile(distributions["wheel"]) as wheel:
        info = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(wheel.read(info))
        entry_points = wheel.read(info.replace("METADATA", "entry_points.txt")).decode()
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel.namelist())
    assert metadata["Name"] == "ryven-dicomreg"
    assert metadata["Version"] == project["version"]
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["License-Expression"] == "BSD-3-Clause"
    for version in ("3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in metadata.get_all("Classifier")
    requirements = metadata.get_all("Requires-Dist")
    ryven = [r for r in requirements if re.match(r"ryven[<>=!~ ;]", r)]
    assert ryven and all('python_version < "3.13"' in r for r in ryven)
    assert "dicomreg = dicomreg.core.cli.main:main" in entry_points


def test_the_wheel_works_without_the_checkout(distributions, tmp_path):
    """The wheel alone (no editable mapping of the folders) saves a REG and runs each flow."""
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-compile", "--target", str(site), str(distributions["wheel"])],
                   check=True, capture_output=True)
    # -S: no site module, so no .pth file (the editable install of this checkout) is read;
    # the dependencies come from this interpreter's site-packages, dicomreg from the wheel.
    paths = [str(site), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    env = {"PYTHONPATH": ":".join(dict.fromkeys(paths)), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    flows = tmp_path / "example_flows"
    shutil.copytree(ROOT / "example_flows", flows, ignore=_IGNORED)
    (flows / "out").mkdir()  # as a copy of the checkout has it (kept by its .gitignore)

    def dicomreg(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-S", "-c",
                               "import sys; from dicomreg.core.cli.main import main; "
                               "sys.exit(main(sys.argv[1:]))", *args],
                              cwd=flows, env=env, capture_output=True, text=True)

    where = subprocess.run([sys.executable, "-S", "-c", "import dicomreg.core as c; "
                            "print(c.__file__)"], env=env, capture_output=True, text=True)
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    saved = dicomreg("save", "data/field.mha", "--fixed", "data/fixed", "--moving",
                     "data/moving", "-o", "reg.dcm")
    assert saved.returncode == 0, saved.stderr
    assert (flows / "reg.dcm").is_file()
    if importlib.util.find_spec("ryven") is None:  # Python 3.13: Ryven cannot be installed
        ran = dicomreg("run", "reg_from_field.json")
        assert ran.returncode == 1 and len(ran.stderr.splitlines()) == 1, ran.stderr
        assert "ryven-dicomreg[flows]" in ran.stderr
        return
    # pacs_round_trip.json needs a PACS holding the sample: tests/nodes/test_net_nodes.py
    # runs it against Orthanc.
    for flow in sorted(set(flows.glob("*.json")) - {flows / "pacs_round_trip.json"}):
        ran = dicomreg("run", flow.name)
        assert ran.returncode == 0, (flow.name, ran.stdout, ran.stderr)
    assert sorted(p.name for p in (flows / "out").glob("*.dcm"))
