"""Vector Grid Data (0064,0009) as a byte stream over the field's array, without a copy.

The standard stores the grid as little-endian float32 (dx, dy, dz) per voxel, x fastest, then
y, then z: a C-ordered (Z, Y, X, 3) array. :class:`VectorGridBuffer` presents any real
numeric (Z, Y, X, 3) array as those bytes. It is a seekable :class:`io.RawIOBase`; wrapped in
:class:`io.BufferedReader` it is accepted by pydicom as the value of an OF element, so the
composed Dataset is complete while the vectors stay where they are. Bytes are converted
slab by slab only when read.
"""

from __future__ import annotations

import io
import mmap

import numpy as np

from dicomreg.core.raw_stream import SeekableReader

__all__ = ["VectorGridBuffer", "release_pages", "vector_grid_array", "vector_grid_value"]

_FLOAT32_LE = np.dtype("<f4")


class VectorGridBuffer(SeekableReader):
    """A read-only, seekable byte view of a (Z, Y, X, 3) array as little-endian float32."""

    def __init__(self, array: np.ndarray) -> None:
        if array.ndim != 4 or array.shape[3] != 3:
            raise ValueError(f"vector grid must have shape (Z, Y, X, 3), not {array.shape}")
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(
            array.dtype, np.complexfloating
        ):
            raise ValueError(f"vector grid must hold real numbers, not {array.dtype}")
        # The array is used in place (SimpleITK's buffer, our reader's memory map, or a
        # reversed view of either); bytes are gathered only for the range being read.
        super().__init__(array.size * 4)
        self.array = array
        self._slab = int(np.prod(array.shape[1:]))

    def readinto(self, buffer: memoryview | bytearray) -> int:
        start = self._position
        stop = min(self.length, start + len(buffer))
        if stop <= start:
            return 0
        first, last = start // 4, -(-stop // 4)
        z_first, z_last = first // self._slab, -(-last // self._slab)
        slabs = np.ascontiguousarray(self.array[z_first:z_last], dtype=_FLOAT32_LE).reshape(-1)
        offset = z_first * self._slab
        values = slabs[first - offset : last - offset]
        raw = values.view(np.uint8)[start - first * 4 : stop - first * 4]
        count = stop - start
        memoryview(buffer).cast("B")[:count] = raw
        self._position = stop
        return count

    def __len__(self) -> int:
        return self.length


def vector_grid_value(array: np.ndarray) -> io.BufferedReader:
    """The value to put into a Dataset's VectorGridData for ``array`` (no copy made)."""
    return io.BufferedReader(VectorGridBuffer(array), buffer_size=1 << 20)


def vector_grid_array(value: object) -> np.ndarray | None:
    """The array behind a value made by :func:`vector_grid_value`, else None."""
    raw = getattr(value, "raw", None)
    return raw.array if isinstance(raw, VectorGridBuffer) else None


def _mapping_of(array: np.ndarray) -> mmap.mmap | None:
    base = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None)
    return base


def release_pages(view: np.ndarray) -> None:
    """Tell the kernel that the pages behind a memory-mapped view are done with.

    A memory-mapped field streamed through the checks and the writer would otherwise stay
    resident page by page until it is all in memory. The data stay in the file (and in the
    page cache); touching them again reads them back. Views not backed by a file map are
    left alone.
    """
    mapping = _mapping_of(view)
    if mapping is None or view.size == 0:
        return
    if view.ndim > 1 and abs(view.strides[-1]) > max(abs(s) for s in view.strides[:-1]):
        # Components stored one after another (NIfTI): each one's pages, not all between.
        for component in range(view.shape[-1]):
            release_pages(view[..., component])
        return
    start_address = np.frombuffer(mapping, dtype=np.uint8).ctypes.data
    low, high = np.lib.array_utils.byte_bounds(view)
    page = mmap.PAGESIZE
    start = (low - start_address) // page * page
    end = high - start_address
    if start < 0 or end > len(mapping):
        return
    mapping.madvise(mmap.MADV_DONTNEED, start, end - start)
