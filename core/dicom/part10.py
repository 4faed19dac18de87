"""Reading a DICOM file's header while its bulk data stay in the file.

pydicom defers large values only at the top level: values inside sequences, such as Vector
Grid Data two sequences deep, are read into memory. :func:`read_header` instead walks the
file's structure through a memory map, copies everything but the large binary values into a
small pruned copy (enclosing lengths adjusted), lets pydicom parse that, and puts a
:class:`FileRegion` reader in place of each large value. The Dataset is complete: a value is
read only when it is used, in the ranges that are used (a dump shows its first bytes; the REG
reader memory-maps it).

Explicit and implicit VR little endian and explicit VR big endian are walked; a deflated file
is read by pydicom as it is.
"""

from __future__ import annotations

import io
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from dicomreg.core.errors import DicomRegError
from dicomreg.core.raw_stream import SeekableReader

__all__ = ["BULK_THRESHOLD", "DicomFileError", "FileRegion", "read_header", "region_of"]

BULK_THRESHOLD = 64 * 1024
_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT"}
_BULK_VRS = {"OB", "OD", "OF", "OL", "OV", "OW"}
_IMPLICIT_LE, _EXPLICIT_BE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"
_DEFLATED = {"1.2.840.10008.1.2.1.99"}


class DicomFileError(DicomRegError):
    """A file that cannot be read as DICOM; the message says why."""


class FileRegion(SeekableReader):
    """A read-only, seekable window onto ``length`` bytes at ``offset`` of a file.

    The file is opened per read, so a Dataset holding regions keeps no file open.
    """

    def __init__(self, path: str | os.PathLike[str], offset: int, length: int,
                 encapsulated: bool = False) -> None:
        super().__init__(length)
        self.path, self.offset = Path(path), offset
        self.encapsulated = encapsulated

    def readinto(self, buffer: memoryview | bytearray) -> int:
        count = max(0, min(len(buffer), self.length - self._position))
        if not count:
            return 0
        with open(self.path, "rb") as handle:
            handle.seek(self.offset + self._position)
            data = handle.read(count)
        memoryview(buffer).cast("B")[: len(data)] = data
        self._position += len(data)
        return len(data)


def region_of(value: object) -> FileRegion | None:
    """The :class:`FileRegion` behind a value made by :func:`read_header`, else None."""
    raw = getattr(value, "raw", None)
    return raw if isinstance(raw, FileRegion) else None


@dataclass
class _Bulk:
    offset: int
    length: int
    encapsulated: bool


class _Walker:
    """Copies a dataset's bytes, leaving out large binary values (recorded by path)."""

    def __init__(self, data: mmap.mmap | bytes, implicit: bool, little: bool,
                 threshold: int) -> None:
        self.data, self.implicit, self.threshold = data, implicit, threshold
        self.e = "<" if little else ">"
        self.bulk: dict[tuple, _Bulk] = {}

    def _u32(self, at: int) -> int:
        return struct.unpack_from(self.e + "I", self.data, at)[0]

    def _tag(self, at: int) -> int:
        group, element = struct.unpack_from(self.e + "HH", self.data, at)
        return group << 16 | element

    def _header(self, at: int) -> tuple[int, str | None, int, int]:
        """(tag, VR, value length, header length) of the element at ``at``."""
        tag = self._tag(at)
        if self.implicit or tag >> 16 == 0xFFFE:
            try:
                vr: str | None = str(dictionary_VR(tag))
            except KeyError:
                vr = None
            return tag, vr, self._u32(at + 4), 8
        vr = bytes(self.data[at + 4 : at + 6]).decode("ascii", "replace")
        if vr in _LONG_VRS:
            return tag, vr, self._u32(at + 8), 12
        return tag, vr, struct.unpack_from(self.e + "H", self.data, at + 6)[0], 8

    def _length_bytes(self, length: int) -> bytes:
        return struct.pack(self.e + "I", length)

    def _rewrite(self, at: int, header: int, length: int) -> bytes:
        """The element's header bytes with a new 4-byte length."""
        head = bytes(self.data[at : at + header])
        return head[:-4] + self._length_bytes(length)

    def dataset(self, at: int, end: int | None, path: tuple, out: bytearray) -> int:
        """Copy elements from ``at`` to ``end`` (or through an item delimiter)."""
        size = len(self.data)
        while (end is None or at < end) and at + 8 <= size:
            tag, vr, length, header = self._header(at)
            if tag == _ITEM_END:
                out += self.data[at : at + 8]
                return at + 8
            start = at + header
            if vr == "SQ" or (length == _UNDEFINED and vr not in _BULK_VRS):
                at = self._sequence(at, tag, header, length, path, out)
            elif length == _UNDEFINED:  # encapsulated pixel data: fragments to a delimiter
                stop = self._fragments_end(start)
                if stop - start > self.threshold:
                    # The region is the value as pydicom holds it: items, not the delimiter.
                    self.bulk[(*path, tag)] = _Bulk(start, stop - 8 - start, True)
                    # an empty Basic Offset Table and the delimiter: a valid, empty value
                    out += self.data[at:start] + struct.pack(self.e + "HHI", 0xFFFE, 0xE000, 0)
                    out += struct.pack(self.e + "HHI", 0xFFFE, 0xE0DD, 0)
                else:
                    out += self.data[at:stop]
                at = stop
            else:
                if start + length > size:
                    raise DicomFileError(f"element {tag:08X} claims {length} bytes beyond the "
                                         "end of the file (a truncated file?)")
                if vr in _BULK_VRS and length > self.threshold:
                    self.bulk[(*path, tag)] = _Bulk(start, length, False)
                    out += self._rewrite(at, header, 0)
                else:
                    out += self.data[at : start + length]
                at = start + length
        return at

    def _fragments_end(self, at: int) -> int:
        while at + 8 <= len(self.data):
            tag, length = self._tag(at), self._u32(at + 4)
            at += 8
            if tag == _SEQUENCE_END:
                return at
            at += length
        raise DicomFileError("encapsulated data without a sequence delimiter (truncated file?)")

    def _sequence(self, at: int, tag: int, header: int, length: int, path: tuple,
                  out: bytearray) -> int:
        start = at + header
        end = None if length == _UNDEFINED else start + length
        content = bytearray()
        position, index = start, 0
        while end is None or position < end:
            item_tag, item_length = self._tag(position), self._u32(position + 4)
            if item_tag == _SEQUENCE_END:
                content += self.data[position : position + 8]
                position += 8
                break
            if item_tag != _ITEM:
                raise DicomFileError(f"sequence {tag:08X} holds {item_tag:08X} where an item "
                                     "was expected")
            item = bytearray()
            item_path = (*path, (tag, index))
            if item_length == _UNDEFINED:
                position = self.dataset(position + 8, None, item_path, item)
            else:
                self.dataset(position + 8, position + 8 + item_length, item_path, item)
                position += 8 + item_length
            new_length = _UNDEFINED if item_length == _UNDEFINED else len(item)
            content += struct.pack(self.e + "HHI", 0xFFFE, 0xE000, new_length) + item
            index += 1
        out += self._rewrite(at, header, _UNDEFINED if end is None else len(content))
        out += content
        return position


def _meta_end_and_syntax(data: mmap.mmap) -> tuple[int, int, str | None]:
    """(dataset start, meta start, transfer syntax) of a file, with or without preamble."""
    at = 132 if bytes(data[128:132]) == b"DICM" else 0
    meta_start, syntax = at, None
    while at + 8 <= len(data) and struct.unpack_from("<H", data, at)[0] == 0x0002:
        element = struct.unpack_from("<H", data, at + 2)[0]
        vr = bytes(data[at + 4 : at + 6]).decode("ascii", "replace")
        if vr in _LONG_VRS:
            length, header = struct.unpack_from("<I", data, at + 8)[0], 12
        else:
            length, header = struct.unpack_from("<H", data, at + 6)[0], 8
        if element == 0x0010:
            syntax = bytes(data[at + header : at + header + length]).rstrip(b"\0 ").decode(
                "ascii", "replace")
        at += header + length
    return at, meta_start, syntax


def read_header(path: str | os.PathLike[str], *,
                threshold: int = BULK_THRESHOLD) -> Dataset:
    """Read a DICOM file with binary values larger than ``threshold`` left in the file.

    Such values become readers over their file region (see :func:`region_of`): an
    :class:`io.BufferedReader` pydicom accepts as the value of an OB, OD, OF, OL, OV or OW
    element. Everything else is as pydicom reads it.

    Raises
    ------
    DicomFileError
        If the file is missing, empty, not DICOM, or truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise DicomFileError(f"'{path}' does not exist or is not a file")
    if path.stat().st_size == 0:
        raise DicomFileError(f"'{path}' is empty, not a DICOM file")
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0,
                                               access=mmap.ACCESS_READ) as data:
        start, _meta_start, syntax = _meta_end_and_syntax(data)
        if syntax is None or syntax in _DEFLATED:
            # No file meta (or a deflated body): pydicom reads it whole, or refuses it.
            return _pydicom_read(path)
        implicit, little = syntax == _IMPLICIT_LE, syntax != _EXPLICIT_BE
        walker = _Walker(data, implicit, little, threshold)
        pruned = bytearray(data[:start])
        try:
            walker.dataset(start, None, (), pruned)
        except (struct.error, IndexError):
            raise DicomFileError(f"'{path}' is truncated or not a DICOM file") from None
        bulk = walker.bulk
    try:
        ds = dcmread(io.BytesIO(bytes(pruned)))
    except (InvalidDicomError, EOFError, ValueError, KeyError) as error:
        raise DicomFileError(f"'{path}' is not a readable DICOM file ({error})") from None
    for key, where in bulk.items():
        _attach(ds, key, FileRegion(path, where.offset, where.length, where.encapsulated))
    ds.filename = str(path)
    return ds


def _pydicom_read(path: Path) -> Dataset:
    try:
        return dcmread(path)
    except (InvalidDicomError, EOFError, ValueError, OSError) as error:
        raise DicomFileError(f"'{path}' is not a readable DICOM file ({error})") from None


def _attach(ds: Dataset, key: tuple, region: FileRegion) -> None:
    for sequence_tag, index in key[:-1]:
        ds = ds[sequence_tag].value[index]
    element = ds[key[-1]]
    element.value = io.BufferedReader(region, buffer_size=1 << 16)
