"""Memory-mapped MetaImage fields give what SimpleITK reads; other files still work."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import SimpleITK as sitk

from dicomreg.core.deformation import FieldFileError, read_displacement_field, read_metaimage
from dicomreg.core.reg import release_pages

ROTATION = (0.0, -1.0, 0.0, 0.6, 0.0, -0.8, 0.8, 0.0, 0.6)


def write(path, dtype, direction=ROTATION, compress=False):
    voxels = (np.random.default_rng(1).standard_normal((4, 5, 6, 3)) * 20).astype(dtype)
    image = sitk.GetImageFromArray(voxels, isVector=True)
    image.SetOrigin((1.5, -2.0, 30.0))
    image.SetSpacing((0.5, 0.75, 2.0))
    image.SetDirection(direction)
    sitk.WriteImage(image, str(path), useCompression=compress)
    return voxels


@pytest.mark.parametrize("suffix", [".mha", ".mhd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8, np.int32])
def test_same_as_simpleitk(tmp_path, suffix, dtype):
    path = tmp_path / f"field{suffix}"
    voxels = write(path, dtype)
    mapped = read_metaimage(path)
    assert isinstance(mapped.voxels, np.memmap)
    assert np.array_equal(mapped.voxels, voxels) and mapped.voxels.dtype == voxels.dtype
    reference = sitk.ReadImage(str(path))
    assert mapped.geometry.origin == reference.GetOrigin()
    assert np.allclose(mapped.geometry.spacing, reference.GetSpacing())
    assert np.allclose(mapped.geometry.direction, reference.GetDirection())


def test_big_endian_data(tmp_path):
    path = tmp_path / "field.mhd"
    voxels = write(path, np.float32)
    header = path.read_text().replace("BinaryDataByteOrderMSB = False",
                                      "BinaryDataByteOrderMSB = True")
    path.write_text(header)
    raw = tmp_path / "field.raw"
    raw.write_bytes(voxels.astype(">f4").tobytes())
    assert np.array_equal(read_metaimage(path).voxels, voxels)


@pytest.mark.parametrize("suffix", [".mha", ".mhd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_compressed_files_are_decompressed_here(tmp_path, suffix, dtype):
    path = tmp_path / f"field{suffix}"
    voxels = write(path, dtype, compress=True)
    image = read_displacement_field(path)
    assert not isinstance(image.voxels, np.memmap)
    assert np.array_equal(image.voxels, voxels) and image.voxels.dtype == voxels.dtype
    reference = sitk.ReadImage(str(path))
    assert image.geometry.origin == reference.GetOrigin()
    assert np.allclose(image.geometry.direction, reference.GetDirection())


def _compressed_stream(path):
    """The header bytes and the zlib stream of a compressed .mha file."""
    data = path.read_bytes()
    start = data.index(b"ElementDataFile = LOCAL\n") + len(b"ElementDataFile = LOCAL\n")
    return data[:start], data[start:]


def test_a_damaged_compressed_stream_is_refused(tmp_path):
    """ITK reads these without failing and returns zeros; here every voxel must come out."""
    path = tmp_path / "field.mha"
    write(path, np.float32, compress=True)
    header, stream = _compressed_stream(path)
    path.write_bytes(header + stream[: len(stream) // 2])
    with pytest.raises(FieldFileError, match="compressed voxels end after .* of 1440 bytes"):
        read_displacement_field(path)
    damaged = bytearray(stream)
    damaged[0] ^= 0xFF  # the zlib header
    path.write_bytes(header + bytes(damaged))
    with pytest.raises(FieldFileError, match="compressed voxels are corrupt"):
        read_displacement_field(path)
    # Uncompressed voxels under a header that says compressed (a hand-edited header).
    path.write_bytes(header + np.zeros(1440, np.uint8).tobytes())
    with pytest.raises(FieldFileError, match="compressed voxels are corrupt"):
        read_displacement_field(path)


def test_a_stream_longer_than_the_grid_is_refused(tmp_path):
    path = tmp_path / "field.mha"
    write(path, np.float32, compress=True)
    header, _ = _compressed_stream(path)
    header = header.replace(b"DimSize = 6 5 4", b"DimSize = 6 5 3")
    assert b"DimSize = 6 5 3" in header
    header = b"\n".join(line for line in header.split(b"\n")
                        if not line.startswith(b"CompressedDataSize"))
    path.write_bytes(header + zlib.compress(np.zeros(1440, np.uint8).tobytes()))
    with pytest.raises(FieldFileError, match="hold more data than its header promises"):
        read_displacement_field(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "field.mha"
    write(path, np.float32)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(FieldFileError, match="promises 1440 bytes of voxels but the file "
                       "holds 1340"):
        read_displacement_field(path)


def test_scalar_metaimage_is_refused(tmp_path):
    path = tmp_path / "scalar.mha"
    sitk.WriteImage(sitk.Image(4, 4, 4, sitk.sitkFloat32), str(path))
    with pytest.raises(FieldFileError, match="is a 3-D scalar image"):
        read_displacement_field(path)


def test_released_pages_read_back_the_same(tmp_path):
    path = tmp_path / "field.mha"
    voxels = write(path, np.float32)
    mapped = read_metaimage(path).voxels
    for k in range(mapped.shape[0]):
        release_pages(mapped[k])
        release_pages(mapped[k, ::2, ::-1])
    assert np.array_equal(mapped, voxels)
    release_pages(np.zeros((2, 2)))  # not a map: nothing to do
