"""The few attributes a volume scan needs, read from a file's first kilobytes.

Scanning a directory of thousands of slices into volumes needs, per file, only what groups,
sorts and describes it: UIDs, orientation, position, spacing, size, echo and temporal
position, frames, a description. :func:`read_slice_header` reads those with one read of the
file's start, walking the elements until pixel data (or until past the last tag it needs),
skipping every other value and sequence without decoding it; it does not need pydicom. A
file it cannot read this way (big endian, deflated, without preamble, a multi-frame image
whose geometry lies in functional groups, an unusual character set) is read by pydicom
instead, so the result is the same either way, only slower.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from dicomreg.core.errors import DicomRegError

__all__ = ["HeaderValueError", "SliceHeader", "read_slice_header"]

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"}
_UNDEFINED = 0xFFFFFFFF
_LITTLE_ENDIAN = {b"1.2.840.10008.1.2", b"1.2.840.10008.1.2.1"}
_PLAIN_CHARSETS = {"", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192"}
_FIRST_READ = 16 * 1024
_MOST_READ = 8 * 1024 * 1024

# tag -> (field, kind); kinds: text, uid, int (IS), us (US), numbers (DS, multi-valued)
_TAGS = {
    0x00080005: ("charset", "text"),
    0x00080016: ("sop_class_uid", "uid"),
    0x00080018: ("sop_instance_uid", "uid"),
    0x00080020: ("study_date", "text"),
    0x00080060: ("modality", "text"),
    0x00081030: ("study_description", "text"),
    0x0008103E: ("series_description", "text"),
    0x00180050: ("slice_thickness", "number"),
    0x00180086: ("echo_numbers", "text"),
    0x00180088: ("spacing_between_slices", "number"),
    0x0020000D: ("study_instance_uid", "uid"),
    0x0020000E: ("series_instance_uid", "uid"),
    0x00200011: ("series_number", "int"),
    0x00200013: ("instance_number", "int"),
    0x00200032: ("image_position", "numbers"),
    0x00200037: ("image_orientation", "numbers"),
    0x00200052: ("frame_of_reference_uid", "uid"),
    0x00200100: ("temporal_position", "text"),
    0x00280008: ("number_of_frames", "int"),
    0x00280010: ("rows", "us"),
    0x00280011: ("columns", "us"),
    0x00280030: ("pixel_spacing", "numbers"),
}
_LAST = max(_TAGS)


@dataclass
class SliceHeader:
    """What a scan needs of one file (an image slice, or a multi-frame instance)."""

    path: Path
    sop_class_uid: str = ""
    sop_instance_uid: str = ""
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    study_date: str = ""
    modality: str = ""
    study_description: str = ""
    series_description: str = ""
    charset: str = ""
    echo_numbers: str = ""
    temporal_position: str = ""
    series_number: int = 0
    instance_number: int = 0
    number_of_frames: int = 1
    rows: int = 0
    columns: int = 0
    slice_thickness: float | None = None
    spacing_between_slices: float | None = None
    image_position: tuple[float, ...] | None = None
    image_orientation: tuple[float, ...] | None = None
    pixel_spacing: tuple[float, ...] | None = None


class HeaderValueError(DicomRegError):
    """A DICOM file whose count or number (Number of Frames, Rows, a position) is malformed;
    the message names the file, the attribute and what is accepted."""


class _NeedsPydicomError(Exception):
    """This file needs pydicom."""


def _decode(kind: str, raw: bytes) -> object:
    text = raw.rstrip(b"\x00 ").decode("latin-1").strip()
    if kind in ("text", "uid"):
        return text
    if kind == "us":
        return struct.unpack("<H", raw[:2])[0] if len(raw) >= 2 else 0
    if not text:
        return None if kind != "int" else 0
    try:
        if kind == "int":
            return int(text.split("\\")[0])
        values = tuple(float(v) for v in text.split("\\"))
    except ValueError:
        raise _NeedsPydicomError from None
    return values[0] if kind == "number" else values


class _Reader:
    """The file's start, read on, never past what is needed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = b""
        self._grow(_FIRST_READ)

    def _grow(self, size: int) -> None:
        with open(self.path, "rb") as handle:
            self.data = handle.read(size)
        self.complete = len(self.data) < size

    def need(self, end: int) -> None:
        """Make sure bytes up to ``end`` are read (raise when the file is shorter)."""
        if end <= len(self.data):
            return
        if self.complete or end > _MOST_READ:
            raise _NeedsPydicomError
        self._grow(max(end, 2 * len(self.data)))
        if end > len(self.data):
            raise _NeedsPydicomError


def _skip_undefined(reader: _Reader, at: int, implicit: bool) -> int:
    """The position after an undefined-length sequence starting at ``at`` (its first item)."""
    while True:
        reader.need(at + 8)
        group, element, length = struct.unpack_from("<HHI", reader.data, at)
        at += 8
        tag = group << 16 | element
        if tag == 0xFFFEE0DD:  # sequence delimiter
            return at
        if tag != 0xFFFEE000:
            raise _NeedsPydicomError
        if length != _UNDEFINED:
            at += length
            continue
        at = _skip_item(reader, at, implicit)


def _skip_item(reader: _Reader, at: int, implicit: bool) -> int:
    """The position after an undefined-length item's delimiter."""
    while True:
        tag, length, start = _element(reader, at, implicit)
        if tag == 0xFFFEE00D:
            return start
        at = _skip_undefined(reader, start, implicit) if length == _UNDEFINED else start + length


def _element(reader: _Reader, at: int, implicit: bool) -> tuple[int, int, int]:
    """(tag, value length, value start) of the element at ``at``."""
    reader.need(at + 8)
    group, element = struct.unpack_from("<HH", reader.data, at)
    tag = group << 16 | element
    if implicit or group == 0xFFFE:
        return tag, struct.unpack_from("<I", reader.data, at + 4)[0], at + 8
    vr = reader.data[at + 4 : at + 6]
    if vr in _LONG_VRS:
        reader.need(at + 12)
        return tag, struct.unpack_from("<I", reader.data, at + 8)[0], at + 12
    return tag, struct.unpack_from("<H", reader.data, at + 6)[0], at + 8


def _fast(path: Path) -> SliceHeader:
    reader = _Reader(path)
    if reader.data[128:132] != b"DICM":
        raise _NeedsPydicomError
    at, syntax = 132, None
    while True:  # the file meta group, always explicit VR little endian
        reader.need(at + 8)
        if struct.unpack_from("<H", reader.data, at)[0] != 0x0002:
            break
        tag, length, start = _element(reader, at, False)
        if tag == 0x00020010:
            reader.need(start + length)
            syntax = reader.data[start : start + length].rstrip(b"\x00 ")
        at = start + length
    if syntax not in _LITTLE_ENDIAN:
        raise _NeedsPydicomError
    implicit = syntax == b"1.2.840.10008.1.2"
    header = SliceHeader(path=path)
    while True:
        try:
            tag, length, start = _element(reader, at, implicit)
        except _NeedsPydicomError:
            if reader.complete:  # the file ends before its pixel data: all is read
                break
            raise
        if tag >= 0x7FE00010 or tag > _LAST:
            break
        if length == _UNDEFINED:
            at = _skip_undefined(reader, start, implicit)
            continue
        if tag in _TAGS:
            reader.need(start + length)
            name, kind = _TAGS[tag]
            setattr(header, name, _decode(kind, reader.data[start : start + length]))
        at = start + length
    if header.charset.split("\\")[0].strip() not in _PLAIN_CHARSETS or \
            header.number_of_frames != 1 or not header.sop_instance_uid:
        raise _NeedsPydicomError
    if header.charset.strip() == "ISO_IR 192":  # UTF-8: decode the texts again
        for name in ("study_description", "series_description"):
            setattr(header, name, getattr(header, name).encode("latin-1").decode(
                "utf-8", "replace"))
    return header


def _numbers(path: Path, keyword: str, value: object) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise HeaderValueError(f"'{path}': its {keyword} {value!r} is not a list of numbers; "
                               "expected decimal numbers") from None


def _whole(path: Path, ds: object, keyword: str, default: int, least: int) -> int:
    """A count read by pydicom (IS or US), checked: a malformed one names itself."""
    value = ds.get(keyword)
    if value in (None, ""):
        return default
    try:
        number = float(value)
        if number != int(number) or number < least:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise HeaderValueError(f"'{path}': its {keyword} {str(value)[:40]!r} is not a whole "
                               f"number of at least {least}; expected a count") from None
    return int(number)


def _with_pydicom(path: Path) -> SliceHeader | None:
    from dicomreg.core.dicom.series import read_dicom_headers  # pydicom, only for the unusual files

    ds = read_dicom_headers(path)
    if ds is None:
        return None

    def text(keyword: str) -> str:
        value = ds.get(keyword)
        return "" if value is None else str(value).strip()

    def number(keyword: str) -> float | None:
        value = ds.get(keyword)
        if value in (None, ""):
            return None
        found = _numbers(path, keyword, [value])
        return found[0] if found else None

    return SliceHeader(
        path=path, sop_class_uid=text("SOPClassUID"), sop_instance_uid=text("SOPInstanceUID"),
        study_instance_uid=text("StudyInstanceUID"),
        series_instance_uid=text("SeriesInstanceUID"),
        frame_of_reference_uid=text("FrameOfReferenceUID"), study_date=text("StudyDate"),
        modality=text("Modality"), study_description=text("StudyDescription"),
        series_description=text("SeriesDescription"), charset=text("SpecificCharacterSet"),
        echo_numbers=text("EchoNumbers"), temporal_position=text("TemporalPositionIdentifier"),
        series_number=_whole(path, ds, "SeriesNumber", 0, -(2**31)),
        instance_number=_whole(path, ds, "InstanceNumber", 0, -(2**31)),
        number_of_frames=_whole(path, ds, "NumberOfFrames", 1, 1),
        rows=_whole(path, ds, "Rows", 0, 0), columns=_whole(path, ds, "Columns", 0, 0),
        slice_thickness=number("SliceThickness"),
        spacing_between_slices=number("SpacingBetweenSlices"),
        image_position=_numbers(path, "ImagePositionPatient", ds.get("ImagePositionPatient")),
        image_orientation=_numbers(path, "ImageOrientationPatient",
                                   ds.get("ImageOrientationPatient")),
        pixel_spacing=_numbers(path, "PixelSpacing", ds.get("PixelSpacing")),
    )


def read_slice_header(path: str | os.PathLike[str]) -> SliceHeader | None:
    """The scan attributes of one file; None when it is not a DICOM instance."""
    path = Path(path)
    try:
        return _fast(path)
    except (_NeedsPydicomError, struct.error, OSError):
        return _with_pydicom(path)
