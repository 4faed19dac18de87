"""Writing a REG Dataset: Explicit VR Little Endian, streamed, atomic.

pydicom encodes a sequence into memory before writing it, and Vector Grid Data sits two
sequences deep: writing a large field through pydicom alone holds the vectors in memory two
or three times over. Instead, the small dataset is encoded by pydicom with each bulk value
replaced by a 16-byte sentinel and every sequence and item in undefined-length form (so that
no enclosing length depends on the bulk value). The encoded bytes are then written around
the bulk values, which are streamed from their arrays slab by slab. The file is assembled in
a temporary file and moved into place only when complete (see :mod:`dicomreg.core.output.atomic`).
"""

from __future__ import annotations

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
    slab_bytes = max(1, array[0].size * 4) if array.shape[0] else 1
    step = max(1, _CHUNK_BYTES // slab_bytes)
    written = 0
    for first in range(0, array.shape[0], step):
        # One chunk is converted (or, for a strided view, gathered) at a time; a contiguous
        # float32 array is written straight from its memory.
        view = array[first : first + step]
        chunk = np.ascontiguousarray(view, dtype="<f4")
        written += out.write(memoryview(chunk).cast("B"))
        release_pages(view)
        if progress is not None and not progress(min(1.0, (first + step) / array.shape[0])):
            raise SaveCancelledError("the save was cancelled; nothing was written")
    return written


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
    sentinels = [uuid.uuid4().bytes for _ in bulk]
    head = _encoded_with_sentinels(ds, bulk, sentinels)
    with atomic_output(path, verify, replaces=DICOM_FILE) as temp_path, \
            open(temp_path, "wb") as out:
        position = 0
        for element, value, sentinel in zip(bulk, values, sentinels, strict=True):
            at = head.find(sentinel, position)
            if at < 0 or head.find(sentinel, at + 1) >= 0:
                raise RuntimeError(f"cannot place the value of {element.tag} in the file")
            # Explicit VR, 4-byte length form: tag(4) VR(2) reserved(2) length(4) value.
            out.write(head[position:at - 4])
            _write_value(out, value, progress)
            position = at + len(sentinel)
        out.write(head[position:])
    return path


def _encoded_with_sentinels(ds: Dataset, bulk: list[DataElement], sentinels: list[bytes]
                            ) -> bytes:
    """``ds`` encoded by pydicom with each bulk value replaced by its sentinel and every
    sequence and item of undefined length; the dataset is left as it was given."""
    saved_values = [element.value for element in bulk]
    containers = list(_sequences(ds))
    saved_lengths = [(sq.is_undefined_length,
                      getattr(item, "is_undefined_length_sequence_item", False))
                     for sq, item in containers]
    try:
        for element, sentinel in zip(bulk, sentinels, strict=True):
            element.value = sentinel
        for sq, item in containers:
            sq.is_undefined_length = True
            item.is_undefined_length_sequence_item = True
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


def _write_value(out: BinaryIO, value: object,
                 progress: Callable[[float], bool] | None) -> None:
    """A bulk value's 4-byte length and the value streamed after it, padded to even length;
    the length is written once the value is."""
    length_field = out.tell()
    out.write(b"\0\0\0\0")
    written = _stream_value(value, out, progress)
    if written % 2:
        out.write(b"\0")
        written += 1
    end = out.tell()
    out.seek(length_field)
    out.write(struct.pack("<I", written))
    out.seek(end)
