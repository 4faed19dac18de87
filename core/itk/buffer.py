"""SimpleITK images filled in place, and memory-mapped pages given back.

SimpleITK copies a numpy array into a new image (``GetImageFromArray``) and hands out only
read-only views of an image's buffer; a float64 displacement field of a 512x512x200 grid is
1.26 GB, so building it in numpy and copying it would hold it twice. Here a new image is
allocated by SimpleITK and its own buffer is written through a numpy array on it.

This is safe for an image made here and not yet shared: SimpleITK images share buffers only
after a copy of the Python object (copy on write), and a new image has no copy. The array
must not outlive the image (the caller keeps both in one scope).
"""

from __future__ import annotations

import ctypes
import mmap
from typing import Any

import numpy as np

from dicomreg.core.image import Geometry

__all__ = ["new_image", "release_pages", "writable_array"]


def new_image(geometry: Geometry, pixel_type: int, components: int = 1
              ) -> tuple[Any, np.ndarray]:
    """A new SimpleITK image on ``geometry`` and a writable (Z, Y, X[, C]) array on its buffer.

    ``pixel_type`` is a SimpleITK pixel ID (a vector type when ``components`` > 1).
    """
    import SimpleITK as sitk

    x, y, z = (int(n) for n in geometry.size)
    image = sitk.Image([x, y, z], pixel_type, components) if components > 1 else \
        sitk.Image([x, y, z], pixel_type)
    image.SetOrigin(geometry.origin)
    image.SetSpacing(geometry.spacing)
    image.SetDirection(geometry.direction)
    return image, writable_array(image)


def writable_array(image: Any) -> np.ndarray:
    """A writable (Z, Y, X[, C]) array on the buffer of ``image``, which must be an image
    not shared with another Python object (one just made, or a filter's output)."""
    import SimpleITK as sitk

    view = sitk.GetArrayViewFromImage(image)  # read-only: its address and layout only
    address = view.__array_interface__["data"][0]
    buffer = (ctypes.c_byte * view.nbytes).from_address(address)
    return np.frombuffer(buffer, dtype=view.dtype).reshape(view.shape)


def _mapping(array: np.ndarray) -> mmap.mmap | None:
    base: Any = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "base", None) if not isinstance(base, memoryview) else base.obj
    return base


def release_pages(array: np.ndarray, part: np.ndarray) -> None:
    """Give back the resident pages of ``part`` (a slice of ``array``) if ``array`` is
    memory-mapped from a file: they are read again from the page cache if touched, and a
    pass over a large mapped field then holds only the slab it works on (else every page
    read stays in the process's resident memory until the mapping closes)."""
    mapping = _mapping(array)
    if mapping is None or not hasattr(mmap, "MADV_DONTNEED"):
        return
    start = part.__array_interface__["data"][0] - _address(mapping)
    page = mmap.PAGESIZE
    first = max(0, start // page * page)
    end = min(len(mapping), start + part.nbytes)
    if end > first:
        mapping.madvise(mmap.MADV_DONTNEED, first, end - first)


def _address(mapping: mmap.mmap) -> int:
    """Where a mapping starts in memory (a read-only mapping refuses ctypes' from_buffer)."""
    return np.frombuffer(mapping, dtype=np.uint8, count=1).__array_interface__["data"][0]
