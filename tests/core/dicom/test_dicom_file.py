"""read_header: the header as pydicom reads it, with bulk values left in the file."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE, make_case
from pydicom import dcmread, dcmwrite
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from dicomreg.core.cli.main import main
from dicomreg.core.dicom import DicomFileError, read_header, region_of
from dicomreg.core.reg import read_deformable_registration


@pytest.fixture
def reg(tmp_path):
    case = make_case(tmp_path, size=(40, 32, 10))  # 154 kB of vectors: above the threshold
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(out), "--no-dciodvfy"]) == 0
    return out


def grid(ds):
    return ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]


def assert_same_as_pydicom(path, threshold=100):
    lazy, full = read_header(path, threshold=threshold), dcmread(path)
    lazy_data, full_data = grid(lazy).VectorGridData, grid(full).VectorGridData
    assert region_of(lazy_data) is not None
    assert lazy_data.read() == full_data
    del grid(lazy).VectorGridData, grid(full).VectorGridData
    assert lazy == full


def test_our_files(reg):
    assert_same_as_pydicom(reg)


@pytest.mark.parametrize(("implicit", "little"), [(True, True), (False, False)])
def test_other_encodings(reg, tmp_path, implicit, little):
    ds = dcmread(reg)
    syntax = "1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.2"
    ds.file_meta.TransferSyntaxUID = syntax
    path = tmp_path / "other.dcm"
    dcmwrite(path, ds, implicit_vr=implicit, little_endian=little, force_encoding=True)
    assert_same_as_pydicom(path)


def test_defined_length_sequences_and_items(reg, tmp_path):
    ds = dcmread(reg)
    for element in ds.iterall():
        if element.VR == "SQ":
            element.is_undefined_length = False
            for item in element.value:
                item.is_undefined_length_sequence_item = False
    path = tmp_path / "defined.dcm"
    ds.save_as(path)
    assert b"\xff\xff\xff\xff" not in path.read_bytes()[:4000]  # no undefined length left
    assert_same_as_pydicom(path)
    vectors = read_deformable_registration(path).deformable_item.grid.voxels
    assert np.array_equal(vectors, read_deformable_registration(reg).deformable_item.grid.voxels)


def test_encapsulated_pixel_data(tmp_path):
    ds = dcmread(SAMPLE / "fixed" / "CT001.dcm")
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([b"\xff\xd8" + bytes(range(256)) * 300 + b"\xff\xd9"])
    ds["PixelData"].is_undefined_length = True
    ds.SeriesDescription = "after the pixel data? no: before; this checks the walk goes on"
    path = tmp_path / "jpeg.dcm"
    ds.save_as(path)
    lazy = read_header(path, threshold=1000)
    region = region_of(lazy.PixelData)
    assert region is not None and region.encapsulated
    assert lazy.PixelData.read() == dcmread(path).PixelData
    assert lazy.SeriesDescription == ds.SeriesDescription


def test_small_values_stay_in_the_dataset():
    ds = read_header(SAMPLE / "fixed" / "CT001.dcm")
    assert isinstance(ds.PixelData, bytes)
    assert ds == dcmread(SAMPLE / "fixed" / "CT001.dcm")


def test_reader_memory_maps_the_vectors(reg):
    item = read_deformable_registration(reg).deformable_item
    assert isinstance(item.grid.owner, np.memmap)
    assert item.grid.voxels.shape == (10, 32, 40, 3)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"just some text, not DICOM", "not a readable DICOM file"),
])
def test_not_dicom(tmp_path, content, message):
    path = tmp_path / "x.dcm"
    path.write_bytes(content)
    with pytest.raises(DicomFileError, match=message):
        read_header(path)


def test_truncated_file(reg, tmp_path):
    data = reg.read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DicomFileError, match="truncated"):
        read_header(path)
