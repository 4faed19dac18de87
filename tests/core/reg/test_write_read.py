"""Compose, write and read back: bit-exact vectors, geometry, matrices, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from dicomreg.core import BadParameterError, DicomREGSave, Geometry, Image
from dicomreg.core.reg import (
    RegReadError,
    VectorGridBuffer,
    read_deformable_registration,
    right_handed_grid,
    vector_grid_value,
)


def module_for(image: Image, path, **fields) -> DicomREGSave:
    """A module ready to save ``image``: frames of reference set, grid fields from it."""
    module = DicomREGSave()
    module.input0 = image
    grid, _ = right_handed_grid(image.geometry)
    module.set_many({
        "frameOfReferenceUID": generate_uid(), "sourceFrameOfReferenceUID": generate_uid(),
        "imagePositionPatient": grid.origin,
        "imageOrientationPatient": grid.image_orientation_patient,
        "fileName": str(path), **fields,
    })
    return module


def field_image(shape=(3, 4, 5), dtype=np.float32, direction=None, seed=1) -> Image:
    z, y, x = shape
    vectors = (np.random.default_rng(seed).standard_normal((z, y, x, 3)) * 5).astype(dtype)
    geometry = Geometry((x, y, z), (1.5, 2.0, 2.5), (12.0, -7.0, 3.0),
                        tuple(np.eye(3).ravel()) if direction is None else direction)
    return Image(vectors, geometry)


def test_float32_round_trip_is_bit_exact(tmp_path):
    image = field_image((5, 6, 7))
    path = module_for(image, tmp_path / "a.dcm").save()
    registration = read_deformable_registration(path)
    grid = registration.deformable_item.grid
    assert np.array_equal(grid.voxels.view(np.uint32), image.voxels.view(np.uint32))
    assert grid.geometry.size == (7, 6, 5)
    assert grid.geometry.spacing == (1.5, 2.0, 2.5)
    assert grid.geometry.origin == (12.0, -7.0, 3.0)
    assert registration.frame_of_reference_uid


@pytest.mark.parametrize("dtype", [np.float64, np.int16, np.uint8, np.float16])
def test_any_real_voxel_type_is_cast_to_float32(tmp_path, dtype):
    image = field_image(dtype=dtype)
    path = module_for(image, tmp_path / "a.dcm").save()
    back = read_deformable_registration(path).deformable_item.grid.voxels
    assert back.dtype == np.dtype("<f4")
    assert np.array_equal(back, image.voxels.astype(np.float32))


def test_nan_vectors_mean_undefined_and_are_kept(tmp_path):
    image = field_image()
    image.voxels[1, 2, 3] = np.nan
    path = module_for(image, tmp_path / "a.dcm").save()
    back = read_deformable_registration(path).deformable_item.grid.voxels
    assert np.isnan(back[1, 2, 3]).all()
    assert np.array_equal(np.isnan(back), np.isnan(image.voxels))


def test_infinite_and_partly_nan_vectors_are_refused(tmp_path):
    image = field_image()
    image.voxels[2, 1, 4, 0] = np.inf
    module = module_for(image, tmp_path / "a.dcm")
    with pytest.raises(BadParameterError, match=r"x=4, y=1, z=2\) has an infinite component"):
        module.save()
    image.voxels[2, 1, 4, 0] = np.nan
    with pytest.raises(BadParameterError, match="NaN in some components only"):
        module.save()
    assert not (tmp_path / "a.dcm").exists()


def test_strided_input_is_written_correctly(tmp_path):
    big = field_image((6, 8, 10))
    view = Image(big.voxels[::2, ::2, ::2], Geometry((5, 4, 3), (3.0, 4.0, 5.0), (0, 0, 0)))
    assert not view.voxels.flags.c_contiguous
    path = module_for(view, tmp_path / "a.dcm").save()
    back = read_deformable_registration(path).deformable_item.grid.voxels
    assert np.array_equal(back, view.voxels)


def test_left_handed_field_keeps_every_vector_at_its_physical_position(tmp_path):
    # z axis pointing to the feet: DICOM's grid needs the slices reversed.
    direction = (1.0, 0, 0, 0, 1.0, 0, 0, 0, -1.0)
    image = field_image((4, 3, 2), direction=direction)
    path = module_for(image, tmp_path / "a.dcm").save()
    grid = read_deformable_registration(path).deformable_item.grid
    assert np.linalg.det(grid.geometry.direction_matrix) > 0
    index = np.argwhere(np.ones(image.voxels.shape[:3]))  # (k, j, i)
    for k, j, i in index:
        point = image.geometry.index_to_point((i, j, k))
        i2, j2, k2 = np.rint(np.linalg.solve(grid.geometry.world_matrix[:3, :3],
                                             point - grid.geometry.origin)).astype(int)
        assert np.array_equal(grid.voxels[k2, j2, i2], image.voxels[k, j, i])


def test_oblique_geometry_round_trip(tmp_path):
    angle = np.deg2rad(20)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0],
                         [0, 0, 1]])
    image = field_image(direction=tuple(rotation.ravel()))
    path = module_for(image, tmp_path / "a.dcm").save()
    grid = read_deformable_registration(path).deformable_item.grid
    assert np.allclose(grid.geometry.direction_matrix, rotation, atol=1e-6)


@pytest.mark.parametrize(("matrix_type", "matrix"), [
    ("RIGID", "0 -1 0 10, 1 0 0 -5, 0 0 1 2, 0 0 0 1"),
    ("RIGID_SCALE", "2 0 0 0, 0 1.5 0 0, 0 0 1 0, 0 0 0 1"),
    ("AFFINE", "1 0.2 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1"),
    ("AFFINE", "0 -1 0 10, 1 0 0 -5, 0 0 1 2, 0 0 0 1"),  # a rigid matrix may be called AFFINE
])
def test_matrices_are_written_at_3006_00c6_with_their_type(tmp_path, matrix_type, matrix):
    module = module_for(field_image(), tmp_path / "a.dcm", preDeformationMatrix=matrix,
                        preDeformationMatrixType=matrix_type, postDeformationMatrix=matrix,
                        postDeformationMatrixType=matrix_type)
    path = module.save()
    item = read_deformable_registration(path).items[0]
    expected = np.array([float(v) for v in matrix.replace(",", " ").split()]).reshape(4, 4)
    assert np.allclose(item.pre_matrix, expected) and item.pre_matrix_type == matrix_type
    assert np.allclose(item.post_matrix, expected) and item.post_matrix_type == matrix_type
    raw = dcmread(path)
    pre = raw.DeformableRegistrationSequence[0].PreDeformationMatrixRegistrationSequence[0]
    assert 0x300600C6 in pre and 0x3006006C not in pre


@pytest.mark.parametrize(("matrix_type", "matrix", "message"), [
    ("RIGID", "2 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1", "it is RIGID_SCALE, not RIGID"),
    ("RIGID", "1 0.2 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1", "it is AFFINE, not RIGID"),
    ("RIGID", "-1 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1", "it is AFFINE, not RIGID"),  # a mirror
    ("RIGID_SCALE", "1 0.2 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1", "it is AFFINE, not RIGID_SCALE"),
    ("AFFINE", "1 0 0 0, 0 1 0 0, 0 0 0 0, 0 0 0 1", "singular"),
    ("AFFINE", "1 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 1 1", "last row must be 0 0 0 1"),
])
def test_matrices_not_of_their_type_are_refused(tmp_path, matrix_type, matrix, message):
    module = module_for(field_image(), tmp_path / "a.dcm", postDeformationMatrix=matrix,
                        postDeformationMatrixType=matrix_type)
    with pytest.raises(BadParameterError, match=f"postDeformationMatrix: .*{message}"):
        module.save()
    assert not (tmp_path / "a.dcm").exists()


def test_grid_position_must_agree_with_the_field(tmp_path):
    module = module_for(field_image(), tmp_path / "a.dcm", imagePositionPatient="0 0 0")
    with pytest.raises(BadParameterError, match="imagePositionPatient: .* differs from the "
                       "field's first voxel position"):
        module.save()


def test_vector_grid_buffer_reads_any_range():
    array = np.arange(2 * 3 * 4 * 3, dtype=np.float64).reshape(2, 3, 4, 3)
    expected = array.astype("<f4").tobytes()
    buffer = VectorGridBuffer(array)
    for start, stop in [(0, 10), (3, 50), (100, 288), (287, 300), (0, 288)]:
        buffer.seek(start)
        assert buffer.read(stop - start) == expected[start:stop]
    assert vector_grid_value(array).read() == expected


def test_reader_diagnoses_files_that_are_not_deformable_registrations(tmp_path):
    from conftest import SAMPLE

    with pytest.raises(RegReadError, match="is a CT Image Storage, not a Deformable"):
        read_deformable_registration(SAMPLE / "fixed" / "CT001.dcm")
    (tmp_path / "x.dcm").write_bytes(b"not dicom at all")
    with pytest.raises(RegReadError, match="not a readable DICOM file"):
        read_deformable_registration(tmp_path / "x.dcm")
    with pytest.raises(RegReadError, match="does not exist"):
        read_deformable_registration(tmp_path / "missing.dcm")


# Each top-level field and the attribute the standard names for it, written out here.
WRITTEN_AT = {
    "patientsName": "PatientName", "patientID": "PatientID", "studyDate": "StudyDate",
    "studyTime": "StudyTime", "referringPhysicianName": "ReferringPhysicianName",
    "studyUID": "StudyID", "accessionNumber": "AccessionNumber",
    "studyDescription": "StudyDescription", "seriesNumber": "SeriesNumber",
    "seriesDescription": "SeriesDescription", "bodyPartExamined": "BodyPartExamined",
    "positionReferenceIndicator": "PositionReferenceIndicator",
    "manufacturer": "Manufacturer", "manufacturerModelName": "ManufacturerModelName",
    "deviceSerialNumber": "DeviceSerialNumber", "softwareVersions": "SoftwareVersions",
    "contentDate": "ContentDate", "contentTime": "ContentTime",
    "contentLabel": "ContentLabel", "contentDescription": "ContentDescription",
    "contentCreatorsName": "ContentCreatorName", "instanceNumber": "InstanceNumber",
}


def test_each_field_is_written_at_its_attribute(tmp_path):
    texts = {"patientsName": "Doe^Jane", "patientID": "P7", "studyDate": "20240102",
             "studyTime": "101112", "referringPhysicianName": "Ref^Doc", "studyUID": "S9",
             "accessionNumber": "A1", "studyDescription": "study", "seriesNumber": "42",
             "seriesDescription": "series", "bodyPartExamined": "KNEE",
             "positionReferenceIndicator": "XY", "manufacturer": "M", "manufacturerModelName":
             "MM", "deviceSerialNumber": "D", "softwareVersions": "3", "contentDate":
             "20240103", "contentTime": "131415", "contentLabel": "LABEL",
             "contentDescription": "content", "contentCreatorsName": "Op^Erator",
             "instanceNumber": "5", "laterality": "L", "patientSexEnum": "Female"}
    path = tmp_path / "all.dcm"
    module_for(field_image(), path, **texts).save()
    ds = dcmread(path)
    for name, keyword in WRITTEN_AT.items():
        assert str(ds[keyword].value) == texts[name], name
    # No birth date was set or inherited: unknown (empty), not the enums' 1900-01-01.
    assert (ds.Laterality, ds.PatientSex, ds.PatientBirthDate) == ("L", "F", "")


def test_empty_fields_write_empty_values_defaults_or_nothing(tmp_path):
    optional = ("studyDescription", "seriesDescription", "bodyPartExamined")
    path = tmp_path / "empty.dcm"
    # An existing study (not a new one, which would be series 1 of its own).
    module_for(field_image(), path, seriesNumber="", softwareVersions="", contentDate="",
               contentTime="", laterality="WriteEmptyTagValue", contentCreatorsName="",
               autoCreateStudyInstanceUID=False, studyInstanceUID=generate_uid(),
               **dict.fromkeys(optional, "")).save()
    ds = dcmread(path)
    assert not any(WRITTEN_AT[name] in ds for name in optional)  # Type 3: left out
    # Type 2 and 2C: present, empty; Content Creator's Name too (Type 2 in older editions)
    for keyword in ("SeriesNumber", "Laterality", "ContentCreatorName"):
        assert keyword in ds and ds[keyword].is_empty
    assert ds.SoftwareVersions and len(ds.ContentDate) == 8 and ds.ContentTime


def _dataset_bytes(path) -> bytes:
    """A Part 10 file's bytes after its file meta group (whose length is its first value)."""
    data = path.read_bytes()
    return data[144 + int.from_bytes(data[140:144], "little"):]


def test_sequences_and_items_have_the_explicit_lengths_pydicom_and_dcmtk_write(tmp_path):
    """Streamed, the file is byte for byte what pydicom writes in memory with explicit
    lengths, and its dataset what DCMTK (dcmconv, and so Orthanc) writes back."""
    import shutil
    import subprocess

    path = module_for(field_image((4, 5, 6)), tmp_path / "a.dcm").save()
    ds = dcmread(path)
    for element in ds.iterall():
        if element.VR == "SQ":
            assert not element.is_undefined_length, element.tag
            assert not any(item.is_undefined_length_sequence_item for item in element.value)
    ds.save_as(tmp_path / "pydicom.dcm", enforce_file_format=True)
    assert (tmp_path / "pydicom.dcm").read_bytes() == path.read_bytes()
    if shutil.which("dcmconv") is None:
        pytest.skip("dcmconv (dcmtk) is not installed")
    subprocess.run(["dcmconv", str(path), str(tmp_path / "dcmtk.dcm")], check=True)
    assert _dataset_bytes(tmp_path / "dcmtk.dcm") == _dataset_bytes(path)


def test_sequences_too_long_for_an_explicit_length_are_written_undefined(tmp_path,
                                                                        monkeypatch):
    from dicomreg.core.reg import writer

    image = field_image((4, 5, 6))
    monkeypatch.setattr(writer, "_MAX_LENGTH", image.voxels.size * 4)  # the grid fits, not
    path = module_for(image, tmp_path / "a.dcm").save()                # its sequences
    data = _dataset_bytes(path)
    assert data.count(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00") >= 2  # sequence delimiters
    back = read_deformable_registration(path).deformable_item.grid.voxels
    assert np.array_equal(back.view(np.uint32), image.voxels.view(np.uint32))
