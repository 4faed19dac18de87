"""Every kind of file we write, read by others: dcmtk's dcmftest and dcmdump, and pydicomrt's
REG reader. dcmtk must be installed (Debian package dcmtk; .ci/run installs it): these tests
fail, not skip, without it."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import MATRICES, POST, PRE, ROOT, make_case, matrix, write_multiframe
from pydicom import dcmread

from dicomreg.core.cli.main import main

KINDS = ("plain", "matrices", "modifiers", "multiframe")


def write(kind: str, tmp_path):
    """One file of the kind, and the field and matrices it was written from."""
    case = make_case(tmp_path, size=(9, 7, 5), orientation=(0.8, 0.6, 0, -0.6, 0.8, 0))
    moving = write_multiframe(tmp_path / "mf.dcm", frames=5) if kind == "multiframe" \
        else case.moving
    extra = {
        "matrices": list(MATRICES),
        "modifiers": ["--modifiers",
                      str(ROOT / "example_flows" / "modifiers" / "deidentify_and_site_block.json")],
    }.get(kind, [])
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving", str(moving),
                 "-o", str(out), "--no-dciodvfy", *extra]) == 0
    matrices = (PRE, POST) if kind == "matrices" else ("1 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1",) * 2
    return out, sitk.ReadImage(str(case.field)), [matrix(m) for m in matrices]


def dcmtk(tool: str, *args: str) -> subprocess.CompletedProcess:
    executable = shutil.which(tool)
    assert executable, f"{tool} is a test tool: apt-get install dcmtk"
    return subprocess.run([executable, *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("kind", KINDS)
def test_dcmtk_reads_every_kind_of_file(tmp_path, kind):
    out, _, _ = write(kind, tmp_path)
    checked = dcmtk("dcmftest", str(out))
    assert checked.returncode == 0 and checked.stdout.strip() == f"yes: {out}", checked
    dumped = dcmtk("dcmdump", str(out))
    assert dumped.returncode == 0 and "E:" not in dumped.stderr, dumped.stderr
    assert re.search(r"^\s*\(0064,0009\) OF .*# +\d+, 1 VectorGridData$", dumped.stdout,
                     re.MULTILINE), dumped.stdout
    if kind == "modifiers":
        assert re.search(r"^\(0011,0010\) LO \[EXAMPLE CLINIC RT\]", dumped.stdout, re.MULTILINE)


@pytest.mark.parametrize("kind", KINDS)
def test_pydicomrt_reads_our_grid_back(tmp_path, kind):
    from pydicomrt.reg.parser import get_deformable_registrations

    out, field, (pre, post) = write(kind, tmp_path)
    ds = dcmread(out)
    (read,) = get_deformable_registrations(ds)
    assert read["SourceFrameOfReferenceUID"] == \
        ds.DeformableRegistrationSequence[0].SourceFrameOfReferenceUID
    grid = read["DeformableRegistrationGrid"]
    expected = sitk.GetArrayFromImage(field)
    assert np.array_equal(grid["VectorGridData"].view(np.uint32), expected.view(np.uint32))
    assert list(grid["GridDimensions"]) == list(field.GetSize())
    assert np.allclose([float(v) for v in grid["ImagePositionPatient"]], field.GetOrigin())
    assert np.allclose([float(v) for v in grid["GridResolution"]], field.GetSpacing())
    direction = np.reshape(field.GetDirection(), (3, 3))
    assert np.allclose([float(v) for v in grid["ImageOrientationPatient"]],
                       [*direction[:, 0], *direction[:, 1]])
    assert np.allclose(np.reshape(read["PreDeformationMatrixRegistration"], (4, 4)), pre)
    assert np.allclose(np.reshape(read["PostDeformationMatrixRegistration"], (4, 4)), post)
