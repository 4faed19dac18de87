"""Writing a REG Dataset: Explicit VR Little Endian, streamed, atomic.

pydicom encodes a sequence into memory before writing it, and Vector Grid Data sits two
sequences deep: writing a large field through pydicom alone holds the vectors in memory two
or three times over. Instead, the small dataset is encoded by pydicom with each bulk value
replaced by a 16-byte sentinel, and the encoded bytes are written around the bulk values,
which are streamed from their arrays slab by slab. The file is assembled in a temporary
file and moved into place only when complete (see :mod:`dicomreg.core.output.atomic`).

Every sequence and item is written with an explicit length, as DCMTK writes them (and so
Orthanc and every DCMTK-based archive store them): the bulk values' sizes are known before
they are streamed, so the lengths of the sequences and items around them are corrected in
the encoded bytes. A file sent by C-STORE is then stored with the very dataset bytes we
wrote. Only when a sequence around a bulk value would be longer than an explicit length can
say (4 GiB) are the sequences and items written in undefined-length form instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import struct
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from dicomreg.core.errors import DicomRegError
from dicomreg.core.output import DICOM_FILE, atomic_output
from dicomreg.core.reg.vector_grid import release_pages, vector_grid_array

__all__ = ["SaveCancelledError", "write_dataset"]

_CHUNK_BYTES = 16 << 20


def _bulk_elements(ds: Dataset) -> Iterator[DataElement]:
    """Every buffered (bulk) element in the dataset, depth first, in file order."""
    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                yield from _bulk_elements(item)
        elif element.is_buffered:
            yield element


def _sequences(ds: Dataset) -> Iterator[tuple[DataElement, Dataset]]:
    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                yield element, item
                yield from _sequences(item)


class SaveCancelledError(DicomRegError):
    """The save was cancelled; nothing was written."""


def _runs(array: np.ndarray, step: int) -> Iterator[tuple[int, np.ndarray]]:
    """Each run of ``step`` slices of ``array`` with the index of its first; a streamed
    field's (see :mod:`dicomreg.core.deformation.streamed`) as they are inflated."""
    slabs = getattr(array, "slabs", None)
    if slabs is not None:
        yield from slabs(step)
        return
    for first in range(0, array.shape[0], step):
        yield first, array[first : first + step]


def _stream_value(value: object, out: BinaryIO,
                  progress: Callable[[float], bool] | None = None) -> int:
    """Write a bulk value to ``out``; return the number of bytes written.

    ``progress`` is called with the fraction written after each chunk; returning False
    cancels (:class:`SaveCancelledError`), and the atomic writer then leaves no file.
    """
    array = vector_grid_array(value)
    if array is None:
        assert isinstance(value, io.BufferedIOBase)
        value.seek(0)
        start = out.tell()
        shutil.copyfileobj(value, out, _CHUNK_BYTES)
        return out.tell() - start
    slab_bytes = max(1, array.size // array.shape[0] * 4) if array.shape[0] else 1
    step = max(1, _CHUNK_BYTES // slab_bytes)
    written = 0
    # Closed on the way out, so that a cancel or a failed write stops a streamed field's
    # inflating thread at once.
    with contextlib.closing(_runs(array, step)) as runs:
        for first, view in runs:
            # One chunk is converted (or, for a strided view, gathered) at a time; a contiguous
            # float32 array is written straight from its memory.
            chunk = np.ascontiguousarray(view, dtype="<f4")
            written += out.write(memoryview(chunk).cast("B"))
            release_pages(view)
            if progress is not None and not progress(min(1.0, (first + step) / array.shape[0])):
                raise SaveCancelledError("the save was cancelled; nothing was written")
    return written


# Explicit VR Little Endian: the VRs whose length field is 4 bytes after 2 reserved ones.
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV"}
_MAX_LENGTH = 0xFFFFFFFE  # the largest explicit length; 0xFFFFFFFF means undefined
_SENTINEL_BYTES = 16  # a UUID's bytes stand for each bulk value while pydicom encodes


def _bulk_size(value: object) -> int:
    """The bytes ``value`` streams as, padded to even length, known before streaming."""
    array = vector_grid_array(value)
    if array is not None:
        size = array.size * 4
    else:
        assert isinstance(value, io.BufferedIOBase)
        size = value.seek(0, io.SEEK_END)
    return size + size % 2


def _containers(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """Each explicit-length sequence and item in ``data[start:end]`` (an Explicit VR Little
    Endian dataset), depth first: where its length field is, where its value starts and
    ends."""
    position = start
    while position < end:
        vr = data[position + 4 : position + 6]
        if vr in _LONG_VRS:
            length_at, value = position + 8, position + 12
            length = struct.unpack_from("<I", data, length_at)[0]
        else:
            value, length = position + 8, struct.unpack_from("<H", data, position + 6)[0]
        if length == 0xFFFFFFFF:
            raise RuntimeError("an undefined length in a dataset encoded with explicit ones")
        if vr == b"SQ":
            yield length_at, value, value + length
            item = value
            while item < value + length:
                item_length = struct.unpack_from("<I", data, item + 4)[0]
                yield item + 4, item + 8, item + 8 + item_length
                yield from _containers(data, item + 8, item + 8 + item_length)
                item += 8 + item_length
        position = value + length


def _with_bulk_lengths(head: bytes, places: list[int], sizes: list[int]) -> bytes | None:
    """``head`` with each sequence's and item's length grown by the bulk values inside it
    (each sentinel at ``places`` stands for a value of ``sizes`` bytes); None when one would
    exceed the largest explicit length."""
    patched = bytearray(head)
    dataset = 144 + struct.unpack_from("<I", head, 140)[0]  # after the file meta group
    for length_at, start, end in _containers(head, dataset, len(head)):
        grown = end - start + sum(size - _SENTINEL_BYTES for at, size in zip(places, sizes,
                                                                            strict=True)
                                  if start <= at < end)
        if grown > _MAX_LENGTH:
            return None
        struct.pack_into("<I", patched, length_at, grown)
    return bytes(patched)



def _encode_head(ds: Dataset, bulk: list[DataElement], sentinels: list[bytes],
                 undefined: bool) -> bytes:
    """``ds`` encoded as a Part 10 file with each bulk value replaced by its sentinel and
    every sequence and item in explicit- or undefined-length form; ``ds`` left as given."""
    saved_values = [element.value for element in bulk]
    containers = list(_sequences(ds))
    saved_lengths = [(sq.is_undefined_length,
                      getattr(item, "is_undefined_length_sequence_item", False))
                     for sq, item in containers]
    try:
        for element, sentinel in zip(bulk, sentinels, strict=True):
            element.value = sentinel
        for sq, item in containers:
            sq.is_undefined_length = undefined
            item.is_undefined_length_sequence_item = undefined
        encoded = io.BytesIO()
        ds.save_as(encoded, enforce_file_format=True)
        return encoded.getvalue()
    finally:
        for element, value in zip(bulk, saved_values, strict=True):
            element.value = value
        for (sq, item), (sq_undefined, item_undefined) in zip(containers, saved_lengths,
                                                               strict=True):
            sq.is_undefined_length = sq_undefined
            item.is_undefined_length_sequence_item = item_undefined


def _sentinel_places(head: bytes, bulk: list[DataElement], sentinels: list[bytes]) -> list[int]:
    places, position = [], 0
    for element, sentinel in zip(bulk, sentinels, strict=True):
        at = head.find(sentinel, position)
        if at < 0 or head.find(sentinel, at + 1) >= 0:
            raise RuntimeError(f"cannot place the value of {element.tag} in the file")
        places.append(at)
        position = at + len(sentinel)
    return places


def _encoded(ds: Dataset, bulk: list[DataElement], sizes: list[int]) -> tuple[bytes, list[int]]:
    """The encoded head and where each bulk value goes in it: explicit lengths, or
    undefined ones when an explicit length cannot hold a sequence."""
    sentinels = [uuid.uuid4().bytes for _ in bulk]  # _SENTINEL_BYTES each
    head = _encode_head(ds, bulk, sentinels, undefined=False)
    places = _sentinel_places(head, bulk, sentinels)
    patched = _with_bulk_lengths(head, places, sizes)
    if patched is not None:
        return patched, places
    head = _encode_head(ds, bulk, sentinels, undefined=True)
    return head, _sentinel_places(head, bulk, sentinels)


def write_dataset(ds: Dataset, path: str | os.PathLike[str],
                  verify: Callable[[Path], None] | None = None,
                  progress: Callable[[float], bool] | None = None) -> Path:
    """Write ``ds`` (with its file meta) to ``path`` atomically, as Explicit VR Little Endian.

    Bulk values given as buffers (Vector Grid Data from :func:`.vector_grid.vector_grid_value`)
    are streamed without a copy of the data. The dataset is left as it was given. ``verify``
    is called with the complete file before it is moved into place (see
    :mod:`dicomreg.core.output.atomic`).
    ``progress`` sees the fraction of the vectors written and may cancel (it returns False).

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    bulk = list(_bulk_elements(ds))
    values = [element.value for element in bulk]
    sizes = [_bulk_size(value) for value in values]
    head, places = _encoded(ds, bulk, sizes)
    with atomic_output(path, verify, replaces=DICOM_FILE) as temp_path, \
            open(temp_path, "wb") as out:
        position = 0
        for element, value, size, at in zip(bulk, values, sizes, places, strict=True):
            # Explicit VR, 4-byte length form: tag(4) VR(2) reserved(2) length(4) value.
            out.write(head[position : at - 4])
            out.write(struct.pack("<I", size))
            written = _stream_value(value, out, progress)
            if written % 2:
                out.write(b"\0")
                written += 1
            if written != size:
                raise RuntimeError(f"the value of {element.tag} streamed {written} bytes, "
                                   f"not the {size} announced")
            position = at + _SENTINEL_BYTES
        out.write(head[position:])
    return path
