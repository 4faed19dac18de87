"""A compressed .mha saved as it is inflated: the same REG as from the uncompressed file, and
every damaged stream refused with one line and no REG left, though found only at its end."""

from __future__ import annotations

import gzip
import importlib
import threading
import tracemalloc
import zlib

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from conftest import assert_clean_refusal, make_case, partials

from dicomreg.core.cli.main import main
from dicomreg.core.deformation import StreamedVoxels, read_displacement_field

# The modules themselves (the faces offer their functions, one of which is named inflate).
INFLATE = importlib.import_module("dicomreg.core.deformation.inflate")
WRITER = importlib.import_module("dicomreg.core.reg.writer")
_GRID = ("GridDimensions", "GridResolution", "ImagePositionPatient", "ImageOrientationPatient")


@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces and writer runs far smaller than a slice, so that a small field is streamed in
    many runs, pieces straddling runs and vectors (4 MB and 16 MB on a real field)."""
    monkeypatch.setattr(INFLATE, "_CHUNK", 777)
    monkeypatch.setattr(WRITER, "_CHUNK_BYTES", 1000)


def compressed(field, path):
    sitk.WriteImage(sitk.ReadImage(str(field)), str(path), useCompression=True)
    return path


def header_and_stream(path):
    data = path.read_bytes()
    start = data.index(b"ElementDataFile = LOCAL\n") + len(b"ElementDataFile = LOCAL\n")
    return data[:start], data[start:]


def save(case, field, out, capsys):
    status = main(["save", str(field), "--fixed", str(case.fixed), "--moving",
                   str(case.moving), "-o", str(out), "--no-dciodvfy"])
    return status, capsys.readouterr().err


def grid_item(path):
    """The grid item of a REG, read by pydicom alone."""
    ds = pydicom.dcmread(path)
    return ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]


def assert_same_grid(path, reference):
    """The grid items of two REG files, by pydicom: the same vector bytes and attributes."""
    read, expected = grid_item(path), grid_item(reference)
    assert read.VectorGridData == expected.VectorGridData
    for keyword in _GRID:
        assert read.get(keyword) == expected.get(keyword), keyword


@pytest.mark.parametrize("pieces", ["real", "small"])
def test_the_same_reg_as_from_the_uncompressed_file(tmp_path, capsys, request, pieces):
    if pieces == "small":
        request.getfixturevalue("small_pieces")
    case = make_case(tmp_path, size=(12, 10, 7))
    packed = compressed(case.field, tmp_path / "packed.mha")
    assert read_displacement_field(packed, streamed=True).voxels.__class__ is StreamedVoxels
    for field, out in ((case.field, tmp_path / "plain.dcm"), (packed, tmp_path / "packed.dcm")):
        assert save(case, field, out, capsys)[0] == 0
    assert_same_grid(tmp_path / "packed.dcm", tmp_path / "plain.dcm")
    # The independent oracle: the vectors written into the case, as the standard stores them.
    assert grid_item(tmp_path / "packed.dcm").VectorGridData == case.vectors.astype(
        "<f4").tobytes()
    assert threading.active_count() == 1  # no inflating thread left behind


def _refused(case, field, out, capsys, *fragments):
    status, err = save(case, field, out, capsys)
    line = assert_clean_refusal(status, err, *fragments)
    assert not out.exists() and not partials(out.parent), line
    assert threading.active_count() == 1
    return line


def _damaged(kind, vectors, stream):
    """A stream damaged as ``kind`` says, for a field of ``vectors``."""
    raw = vectors.astype("<f4").tobytes()
    if kind == "truncated":
        return stream[: len(stream) * 3 // 4]
    if kind == "checksum":  # Adler-32's last byte: every voxel inflates, the check fails
        return stream[:-1] + bytes([stream[-1] ^ 0x01])
    if kind == "no checksum":  # cut inside its Adler-32: every voxel still inflates
        return stream[:-4]
    if kind == "more data":
        return zlib.compress(raw + np.ones(30, "<f4").tobytes())
    # MetaImage's compressed data is one zlib stream; gzip members (a .gz pasted in) are not
    # read as it, even one after another as bgzip writes them.
    return gzip.compress(raw[:1000]) + gzip.compress(raw[1000:])


@pytest.mark.parametrize(("kind", "reason"), [
    ("truncated", "compressed voxels end after"),
    ("checksum", "compressed voxels are corrupt (incorrect data check)"),
    ("no checksum", "end before the stream's checksum"),
    ("more data", "hold more data than its header promises"),
    ("gzip members", "compressed voxels are corrupt")])
def test_a_damaged_stream_found_while_saving_leaves_no_reg(tmp_path, capsys, small_pieces,
                                                           kind, reason):
    case = make_case(tmp_path, size=(12, 10, 7))
    packed = compressed(case.field, tmp_path / "packed.mha")
    header, stream = header_and_stream(packed)
    # No stored size: the stream runs to the end of the file, however long it is.
    header = b"\n".join(line for line in header.split(b"\n")
                        if not line.startswith(b"CompressedDataSize"))
    packed.write_bytes(header + _damaged(kind, case.vectors, stream))
    _refused(case, packed, tmp_path / "out.dcm", capsys, "packed.mha", reason)


def test_gzip_members_in_a_nifti_give_the_same_reg(tmp_path, capsys):
    """A .nii.gz of several gzip members (as bgzip writes) is read to its last member."""
    case = make_case(tmp_path, size=(12, 10, 7))
    whole = tmp_path / "whole.nii.gz"
    sitk.WriteImage(sitk.ReadImage(str(case.field)), str(whole))
    raw = gzip.decompress(whole.read_bytes())
    members = tmp_path / "members.nii.gz"
    members.write_bytes(b"".join(gzip.compress(raw[i : i + 999])
                                 for i in range(0, len(raw), 999)))
    assert save(case, case.field, tmp_path / "plain.dcm", capsys)[0] == 0
    assert save(case, members, tmp_path / "members.dcm", capsys)[0] == 0
    assert_same_grid(tmp_path / "members.dcm", tmp_path / "plain.dcm")


@pytest.mark.parametrize("bad", ["inf", "partial nan"])
def test_a_bad_vector_in_a_late_slab_leaves_no_reg(tmp_path, capsys, small_pieces, bad):
    case = make_case(tmp_path, size=(12, 10, 7))
    vectors = sitk.GetArrayFromImage(sitk.ReadImage(str(case.field)))
    vectors[5, 4, 3] = (np.inf, 1, 1) if bad == "inf" else (np.nan, 1, 1)
    image = sitk.GetImageFromArray(vectors, isVector=True)
    image.CopyInformation(sitk.ReadImage(str(case.field)))
    packed = tmp_path / "packed.mha"
    sitk.WriteImage(image, str(packed), useCompression=True)
    line = _refused(case, packed, tmp_path / "out.dcm", capsys,
                    "vector at voxel (x=3, y=4, z=5)")
    assert ("infinite" in line) == (bad == "inf")
    # the vector's own line, as for a field read whole, not wrapped as a file it cannot read
    assert "cannot read" not in line and line.count("input0") == 1, line


def test_a_streamed_field_used_otherwise_is_inflated_whole(tmp_path):
    case = make_case(tmp_path, size=(12, 10, 7))
    packed = compressed(case.field, tmp_path / "packed.mha")
    voxels = read_displacement_field(packed, streamed=True).voxels
    assert voxels.shape == case.vectors.shape and voxels.dtype == case.vectors.dtype
    assert np.array_equal(np.asarray(voxels), case.vectors)
    assert np.array_equal(voxels[::-1], case.vectors[::-1])
    runs = list(voxels.slabs(2))  # inflated already: the array's runs
    assert [first for first, _ in runs] == [0, 2, 4, 6]
    assert np.array_equal(np.concatenate([run for _, run in runs]), case.vectors)


def test_a_field_inflated_already_still_has_its_slabs_checked(tmp_path):
    from dicomreg.core.deformation import StreamedFieldError

    case = make_case(tmp_path, size=(12, 10, 7))
    voxels = read_displacement_field(compressed(case.field, tmp_path / "packed.mha"),
                                     streamed=True).voxels
    np.asarray(voxels)  # inflated whole by another use first
    voxels.slab_check = lambda slab, z: "a refused vector" if z >= 4 else None
    with pytest.raises(StreamedFieldError, match="a refused vector"):
        list(voxels.slabs(2))


def test_a_copy_asked_of_a_streamed_field_is_its_own(tmp_path):
    case = make_case(tmp_path, size=(12, 10, 7))
    voxels = read_displacement_field(compressed(case.field, tmp_path / "packed.mha"),
                                     streamed=True).voxels
    copied = np.array(voxels, copy=True)
    copied[...] = 99.0  # writing into the copy leaves the field's own voxels alone
    assert np.array_equal(np.asarray(voxels), case.vectors)


def test_the_save_holds_a_small_part_of_the_field(tmp_path, capsys, monkeypatch):
    """The field is never held whole: at most the waiting pieces and a run (4 pieces of 64 kB
    and a run of 480 kB, a slice, here, for a 24 MB field; 4 of 4 MB and 16 MB in use)."""
    monkeypatch.setattr(INFLATE, "_CHUNK", 1 << 16)
    monkeypatch.setattr(WRITER, "_CHUNK_BYTES", 1 << 18)
    case = make_case(tmp_path, size=(200, 200, 50))
    packed = compressed(case.field, tmp_path / "packed.mha")
    tracemalloc.start()
    try:
        assert save(case, packed, tmp_path / "out.dcm", capsys)[0] == 0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < case.vectors.nbytes / 4, peak
    assert grid_item(tmp_path / "out.dcm").VectorGridData == case.vectors.astype(
        "<f4").tobytes()


def test_a_cancel_while_streaming_stops_the_inflating(tmp_path, small_pieces):
    from dicomreg.core.reg import SaveCancelledError
    from dicomreg.core.regsave import SaveRequest, save_registration

    case = make_case(tmp_path, size=(12, 10, 7))
    packed = compressed(case.field, tmp_path / "packed.mha")
    out = tmp_path / "out.dcm"
    seen = []

    def progress(fraction: float) -> bool:
        seen.append(fraction)
        return fraction < 0.3  # cancel in the middle of the vectors

    with pytest.raises(SaveCancelledError):
        save_registration(SaveRequest(field=str(packed), output=str(out),
                                      fixed=str(case.fixed), moving=str(case.moving),
                                      dciodvfy=False, progress=progress))
    assert 0 < seen[-1] < 1 and not out.exists() and not partials(tmp_path)
    assert threading.active_count() == 1


def test_a_failure_of_any_kind_in_the_inflating_thread_reaches_the_save(tmp_path, capsys,
                                                                        small_pieces,
                                                                        monkeypatch):
    """A fault injected into the inflating thread (a MemoryError on its third piece, not a
    ValueError or OSError) must end the save with one line and no REG; the review found the
    thread died silently and the save waited for its next piece for ever."""
    case = make_case(tmp_path, size=(12, 10, 7))
    packed = compressed(case.field, tmp_path / "packed.mha")
    real = INFLATE.exact_pieces

    def failing(*args, **kwargs):
        for index, piece in enumerate(real(*args, **kwargs)):
            if index == 2:
                raise MemoryError("injected")
            yield piece

    monkeypatch.setattr(INFLATE, "exact_pieces", failing)
    _refused(case, packed, tmp_path / "out.dcm", capsys, "needs more memory")
