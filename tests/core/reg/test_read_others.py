"""Reading REG files that others write: plastimatch's, several items, undefined vectors and
files with known faults."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import grid, make_case, save_on_fixed
from pydicom import dcmread
from pydicom.dataset import Dataset

from dicomreg.core.cli.main import main
from dicomreg.core.reg import RegReadError, read_deformable_registration


def test_plastimatch_files_read_back_to_their_field_bit_exactly(tmp_path):
    assert shutil.which("plastimatch"), "plastimatch is a test tool: apt-get install plastimatch"
    case = make_case(tmp_path, size=(16, 12, 8))
    out = tmp_path / "plm"
    subprocess.run(["plastimatch", "xf-convert", "--input", str(case.field), "--output-dicom",
                    str(out), "--fixed-rcs", str(case.fixed), "--moving-rcs",
                    str(case.moving)], check=True, capture_output=True)
    registration = read_deformable_registration(next(out.glob("*.dcm")))
    assert np.array_equal(grid(registration).view(np.uint32), case.vectors.view(np.uint32))
    field = sitk.ReadImage(str(case.field))
    geometry = registration.deformable_item.grid.geometry
    assert np.allclose(geometry.origin, field.GetOrigin())
    assert np.allclose(geometry.spacing, field.GetSpacing())


def our_reg(tmp_path):
    case = make_case(tmp_path)
    reg = tmp_path / "reg.dcm"
    save_on_fixed(case, reg)
    return case, reg


def test_several_items_and_undefined_vectors(tmp_path, capsys):
    case, reg = our_reg(tmp_path)
    ds = dcmread(reg)
    identity = Dataset()
    identity.SourceFrameOfReferenceUID = ds.FrameOfReferenceUID
    identity.RegistrationTypeCodeSequence = []
    ds.DeformableRegistrationSequence.insert(0, identity)
    gridded = ds.DeformableRegistrationSequence[1].DeformableRegistrationGridSequence[0]
    vectors = np.frombuffer(gridded.VectorGridData, "<f4").copy().reshape(case.vectors.shape)
    vectors[0, 0, 0] = np.nan
    gridded.VectorGridData = vectors.tobytes()
    ds.save_as(reg)
    registration = read_deformable_registration(reg)
    assert len(registration.items) == 2 and registration.items[0].grid is None
    assert np.isnan(grid(registration)[0, 0, 0]).all()
    origin = registration.deformable_item.grid.geometry.origin
    capsys.readouterr()
    assert main(["map", str(reg), *map(str, origin)]) == 0
    assert "undefined" in capsys.readouterr().out
    assert main(["map", str(reg), "0", "0", "0", "--item", "1"]) == 1
    assert "item 1 holds no grid" in capsys.readouterr().err


def test_rigid_class_with_deformable_content(tmp_path, capsys):
    _case, reg = our_reg(tmp_path)
    ds = dcmread(reg)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.1"
    ds.save_as(reg)
    with pytest.raises(RegReadError, match="is a Spatial Registration Storage, not a Deformable"
                       ".*read it with --accept-spatial-registration-class"):
        read_deformable_registration(reg)
    registration = read_deformable_registration(reg, accept_spatial_registration_class=True)
    assert "a known fault of some writers" in registration.notes[0]
    assert main(["read", str(reg), "-o", str(tmp_path / "f.mha"),
                 "--accept-spatial-registration-class"]) == 0


def test_vectors_in_voxel_units(tmp_path):
    case, reg = our_reg(tmp_path)
    ds = dcmread(reg)
    gridded = ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]
    spacing = np.asarray(gridded.GridResolution)
    gridded.VectorGridData = (case.vectors / spacing).astype("<f4").tobytes()  # the fault
    ds.save_as(reg)
    fixed = read_deformable_registration(reg, vector_units="voxel")
    assert np.allclose(grid(fixed), case.vectors, atol=1e-5)
    assert "voxel steps" in fixed.notes[0]


def test_grid_data_of_the_wrong_length(tmp_path):
    case, reg = our_reg(tmp_path)
    ds = dcmread(reg)
    gridded = ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]
    data = gridded.VectorGridData
    gridded.VectorGridData = data + b"\0" * 24
    ds.save_as(reg)
    with pytest.raises(RegReadError, match="holds 2328 bytes; the Grid Dimensions need 2304 .*"
                       "--ignore-extra-bytes"):
        read_deformable_registration(reg)
    assert np.array_equal(grid(read_deformable_registration(reg, ignore_extra_bytes=True)),
                          case.vectors)
    gridded.VectorGridData = data[:-24]
    ds.save_as(reg)
    with pytest.raises(RegReadError, match="holds 2280 bytes; the Grid Dimensions need 2304"):
        read_deformable_registration(reg, ignore_extra_bytes=True)
