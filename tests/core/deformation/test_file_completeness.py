"""Truncated field and image files are refused before ITK reads them (it would fill the gap)."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import make_case, save_on_fixed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomreg.core.cli.main import main
from dicomreg.core.deformation import IncompleteFileError, check_complete

SUFFIXES = (".nii", ".nii.gz", ".vtk", ".hdr")


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """A small field in each format that ITK reads without noticing a truncation."""
    folder = tmp_path_factory.mktemp("fields")
    vectors = (np.random.default_rng(3).standard_normal((4, 5, 6, 3)) * 5).astype(np.float32)
    image = sitk.GetImageFromArray(vectors, isVector=True)
    image.SetSpacing((1.5, 2.0, 2.5))
    paths = {}
    for suffix in SUFFIXES:
        paths[suffix] = folder / f"field{suffix}"
        sitk.WriteImage(image, str(paths[suffix]))
    return paths


def _copy(original, folder, keep=None):
    """A copy of ``original`` (with its .img for .hdr), cut to ``keep`` bytes of voxel file."""
    target = folder / original.name
    shutil.copy(original, target)
    data_file = target
    if original.suffix == ".hdr":
        shutil.copy(original.with_suffix(".img"), target.with_suffix(".img"))
        data_file = target.with_suffix(".img")
    if keep is not None:
        data_file.write_bytes(data_file.read_bytes()[:keep])
    return target, data_file


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_complete_files_pass(originals, suffix):
    check_complete(originals[suffix])


@pytest.mark.parametrize("suffix", SUFFIXES)
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=400))
def test_every_truncation_is_refused(originals, tmp_path, suffix, cut):
    data_file = originals[suffix].with_suffix(".img") if suffix == ".hdr" else originals[suffix]
    size = data_file.stat().st_size
    target, _ = _copy(originals[suffix], tmp_path, keep=max(size - cut, 0))
    if suffix == ".nii.gz" and _decompressible(target) >= _decompressible(originals[suffix]):
        # Only the gzip trailer or the stream's end marker was cut: every voxel is there.
        check_complete(target)
        return
    with pytest.raises(IncompleteFileError, match="a truncated file"):
        check_complete(target)


def _decompressible(path):
    """How many bytes Python's gzip module gets out of ``path`` (byte by byte, so that none
    is lost when it meets the end of a truncated file)."""
    count = 0
    with gzip.open(path) as handle:
        try:
            while handle.read(1):
                count += 1
        except EOFError:
            pass
    return count


def test_a_gzip_stream_followed_by_other_bytes_passes(originals, tmp_path):
    """The gzip trailer then disagrees; the full count shows the voxels are all there."""
    target, _ = _copy(originals[".nii.gz"], tmp_path)
    data = target.read_bytes()
    target.write_bytes(data + b"trailing bytes of no one")
    assert target.read_bytes()[-4:] != data[-4:]  # so the trailer check cannot decide
    check_complete(target)


def test_gzip_members_one_after_another(originals, tmp_path):
    """As bgzip writes them: every member counts, and a cut in the last one is seen."""
    whole = gzip.decompress(originals[".nii.gz"].read_bytes())
    target = tmp_path / "members.nii.gz"
    members = gzip.compress(whole[:1000]) + gzip.compress(whole[1000:])
    target.write_bytes(members)
    check_complete(target)
    target.write_bytes(members[:-100])
    with pytest.raises(IncompleteFileError, match="decompresses to .* bytes but its header "
                       f"promises {len(whole)}"):
        check_complete(target)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_save_refuses_a_truncated_field_and_writes_nothing(originals, tmp_path, capsys, suffix):
    case = make_case(tmp_path)
    data_file = originals[suffix].with_suffix(".img") if suffix == ".hdr" else originals[suffix]
    target, cut_file = _copy(originals[suffix], tmp_path,
                             keep=data_file.stat().st_size * 2 // 3)
    out = tmp_path / "out.dcm"
    assert main(["save", str(target), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy"]) == 1
    error = capsys.readouterr().err
    verb = "decompresses to" if suffix == ".nii.gz" else "holds"
    assert f"'{cut_file}' {verb}" in error and "(a truncated file)" in error
    assert len(error.strip().splitlines()) == 1 and not out.exists()


def test_warp_refuses_a_truncated_moving_image(tmp_path, capsys):
    case = make_case(tmp_path)
    reg = tmp_path / "reg.dcm"
    save_on_fixed(case, reg)
    moving = tmp_path / "moving.nii"
    sitk.WriteImage(sitk.Image(8, 6, 4, sitk.sitkInt16), str(moving))
    moving.write_bytes(moving.read_bytes()[:-40])
    out = tmp_path / "warped.nii"
    assert main(["warp", str(reg), str(moving), "-o", str(out)]) == 1
    assert "(a truncated file)" in capsys.readouterr().err
    assert not out.exists()


def test_itk_refuses_a_truncated_nrrd_and_its_reason_is_shown(originals, tmp_path, capsys):
    """NRRD needs no check of ours: ITK refuses it, and the message keeps ITK's reason."""
    case = make_case(tmp_path)
    field = tmp_path / "field.nrrd"
    sitk.WriteImage(sitk.ReadImage(str(originals[".nii"])), str(field))
    field.write_bytes(field.read_bytes()[:-200])
    assert main(["save", str(field), "--fixed", str(case.fixed), "-o",
                 str(tmp_path / "out.dcm"), "--no-dciodvfy"]) == 1
    error = capsys.readouterr().err
    assert f"cannot read '{field}' as an image (_nrrdEncodingRaw_read: fread got only" in error
    assert len(error.strip().splitlines()) == 1 and not (tmp_path / "out.dcm").exists()


@pytest.mark.parametrize("order", ["<", ">"])
def test_a_nifti2_header_is_read_in_either_byte_order(tmp_path, order):
    """NIfTI-2 (540 bytes, 64-bit sizes) as well: its fields, and a cut file refused."""
    import struct

    from dicomreg.core.deformation import parse_nifti_header

    head = bytearray(544)
    head[0:4] = struct.pack(order + "i", 540)
    head[4:12] = b"n+2\x00\r\n\x1a\n"
    head[12:16] = struct.pack(order + "2h", 16, 32)  # float32
    head[16:80] = struct.pack(order + "8q", 5, 6, 5, 4, 1, 3, 1, 1)
    head[104:168] = struct.pack(order + "8d", *[1.0] * 8)  # 1 mm voxels: 0 is refused
    head[168:176] = struct.pack(order + "q", 544)
    head[504:508] = struct.pack(order + "i", 1007)
    header = parse_nifti_header(bytes(head))
    assert (header.version, header.byte_order, header.single_file) == (2, order, True)
    assert header.dims[:6] == (5, 6, 5, 4, 1, 3) and header.intent == 1007
    assert header.voxel_bytes == 6 * 5 * 4 * 3 * 4
    path = tmp_path / "field.nii"
    path.write_bytes(bytes(head) + bytes(header.voxel_bytes))
    check_complete(path)
    path.write_bytes(bytes(head) + bytes(header.voxel_bytes - 1))
    with pytest.raises(IncompleteFileError, match="holds 1983 bytes but its header promises "
                                                   "1984"):
        check_complete(path)


_NRRD_HEAD = (b"NRRD0004\ntype: float\ndimension: 4\nspace: left-posterior-superior\n"
              b"sizes: 3 1 1 1\nspace directions: none (1,0,0) (0,1,0) (0,0,1)\n"
              b"kinds: vector domain domain domain\nendian: little\nencoding: ascii\n"
              b"space origin: (0,0,0)\n\n")
_VTK_HEAD = (b"# vtk DataFile Version 3.0\nfield\nASCII\nDATASET STRUCTURED_POINTS\n"
             b"DIMENSIONS 1 1 2\n%s\nORIGIN 0 0 0\nPOINT_DATA 2\nVECTORS vectors float\n"
             b"0.5 0.5 0.5 0.5 0.5 0.5")


@pytest.mark.parametrize(("name", "content", "expected"), [
    # Found by the generated fuzz cases: teem's text reader ran past the NULs (SIGSEGV).
    ("nul.nrrd", _NRRD_HEAD + b"0 0 0" + b"\0" * 1063, "hold the byte 0x00 at offset"),
    # ITK filled the two missing spacings with whatever its memory held (6.9e-310).
    ("one_spacing.vtk", _VTK_HEAD % b"SPACING 1e999", "its SPACING '1e999' is not three"),
    ("two_spacings.vtk", _VTK_HEAD % b"SPACING 1 1", "its SPACING '1 1' is not three"),
    ("origin_nan.vtk", (_VTK_HEAD % b"SPACING 1 1 1").replace(b"ORIGIN 0 0 0",
                                                              b"ORIGIN nan 0 0"),
     "its ORIGIN 'nan 0 0' is not three finite numbers"),
])
def test_text_data_and_headers_itk_would_misread_are_one_line(tmp_path, capsys, name,
                                                              content, expected):
    import warnings

    case = make_case(tmp_path)
    (tmp_path / name).write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's warnings on what ITK filled in: none
        assert main(["save", str(tmp_path / name), "--fixed", str(case.fixed), "-o",
                     str(tmp_path / "out.dcm"), "--no-dciodvfy"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "out.dcm").exists()
