"""The scan's header reader: the same attributes as pydicom gives, from any file."""

from __future__ import annotations

import pytest
from conftest import SAMPLE, make_case, write_multiframe
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset

from dicomreg.core.dicom import header_scan, read_slice_header


def both(path):
    """The fast reader's result and the pydicom reader's, for the same file."""
    return header_scan._fast(path), header_scan._with_pydicom(path)


def test_same_as_pydicom_on_a_series():
    for path in sorted((SAMPLE / "fixed").iterdir()):
        fast, slow = both(path)
        assert fast == slow


def test_implicit_vr_and_undefined_length_sequences(tmp_path):
    ds = dcmread(SAMPLE / "moving" / "CT003.dcm")
    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = "1.2.3", "1.2.3.4"
    nested = Dataset()
    nested.CodeValue = "X"
    item.PurposeOfReferenceCodeSequence = [nested]
    ds.ReferencedImageSequence = [item, item]  # (0008,1140): before the tags it needs
    ds.SeriesDescription = "Müller's series"
    ds.SpecificCharacterSet = "ISO_IR 192"
    for sequence in (ds["ReferencedImageSequence"], item["PurposeOfReferenceCodeSequence"]):
        sequence.is_undefined_length = True
    item.is_undefined_length_sequence_item = True
    for implicit in (False, True):
        path = tmp_path / f"x{implicit}.dcm"
        ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2" if implicit else \
            "1.2.840.10008.1.2.1"
        dcmwrite(path, ds, implicit_vr=implicit, little_endian=True)
        fast, slow = both(path)
        assert fast == slow and fast.series_description == "Müller's series"


def test_unusual_files_go_through_pydicom(tmp_path):
    ds = dcmread(SAMPLE / "fixed" / "CT001.dcm")
    big = tmp_path / "big.dcm"
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.2"
    dcmwrite(big, ds, implicit_vr=False, little_endian=False, force_encoding=True)
    bare = tmp_path / "bare.dcm"  # a dataset alone: no preamble, no file meta
    plain = dcmread(SAMPLE / "fixed" / "CT001.dcm")
    plain.preamble = None
    del plain.file_meta
    dcmwrite(bare, plain, implicit_vr=True, little_endian=True)
    multiframe = write_multiframe(tmp_path / "mf.dcm", frames=3)
    for path in (big, bare, multiframe):
        with pytest.raises(header_scan._NeedsPydicomError):
            header_scan._fast(path)
        header = read_slice_header(path)
        assert header is not None and header.sop_instance_uid
    assert read_slice_header(multiframe).number_of_frames == 3


def test_not_dicom_and_truncated(tmp_path):
    (tmp_path / "text.dcm").write_text("not DICOM")
    assert read_slice_header(tmp_path / "text.dcm") is None
    (tmp_path / "empty.dcm").write_bytes(b"")
    assert read_slice_header(tmp_path / "empty.dcm") is None
    data = (SAMPLE / "fixed" / "CT001.dcm").read_bytes()
    (tmp_path / "cut.dcm").write_bytes(data[:600])  # cut inside the header
    header = read_slice_header(tmp_path / "cut.dcm")
    assert header is None or header.sop_instance_uid


def test_large_headers_are_read_on(tmp_path):
    case = make_case(tmp_path)
    path = sorted(case.fixed.iterdir())[0]
    ds = dcmread(path)
    ds.add_new(0x00091010, "OB", b"\0" * 100_000)  # a big private block before (0020,xxxx)
    ds.add_new(0x00090010, "LO", "BIG CREATOR")
    ds.save_as(path)
    fast, slow = both(path)
    assert fast == slow and fast.image_position is not None


def _with_frames(source, target, value: bytes):
    """A copy of ``source`` whose Number of Frames is ``value`` as stored, however malformed."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    ds = dcmread(source)
    tag = Tag(0x00280008)
    ds._dict[tag] = RawDataElement(tag, "IS", len(value), value, 0, False, True)
    ds.save_as(target)
    return target


@pytest.mark.parametrize("value", [b"abc ", b"1.5 ", b"-3", b"0 "])
def test_a_malformed_number_of_frames_is_one_line(tmp_path, capsys, value):
    from dicomreg.core.cli.main import main

    case = make_case(tmp_path / "case")
    bad = _with_frames(write_multiframe(tmp_path / "mf.dcm", 3), tmp_path / "bad.dcm", value)
    assert main(["save", str(case.field), "--fixed", str(bad), "--moving", str(case.moving),
                 "-o", str(tmp_path / "out.dcm"), "--no-dciodvfy"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "NumberOfFrames" in err[0] and str(bad) in err[0], err
    assert not (tmp_path / "out.dcm").exists()


def test_a_malformed_neighbour_of_a_single_file_fixed_is_passed_over(tmp_path, capsys):
    """One slice given as --fixed: its folder is counted for the warning, and a neighbour
    with a malformed Number of Frames is not a slice of its series (was a ValueError)."""
    from dicomreg.core.cli.main import main

    case = make_case(tmp_path / "case")
    folder = tmp_path / "folder"
    folder.mkdir()
    one = sorted(case.fixed.iterdir())[0]
    (folder / one.name).write_bytes(one.read_bytes())
    _with_frames(write_multiframe(tmp_path / "mf.dcm", 3), folder / "zz.dcm", b"abc ")
    assert main(["save", str(case.field), "--fixed", str(folder / one.name), "--moving",
                 str(case.moving), "-o", str(tmp_path / "out.dcm"), "--no-dciodvfy"]) == 0
    assert capsys.readouterr().err == ""
