"""Whether an image file holds all the voxels its header promises.

ITK reads a truncated NIfTI (.nii, .nii.gz), Analyze (.hdr/.img) or legacy VTK file without
complaint and fills the missing voxels with whatever is at hand, so that a REG written from it
would validate and be wrong. These checks read only headers and sizes (and, for gzip, the
trailer, then the whole stream only when the trailer disagrees), before SimpleITK reads the
file. NRRD and compressed MetaImage files need none here: ITK refuses a truncated NRRD, and
:mod:`.metaimage` decompresses MetaImage itself and counts what it gets.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

from dicomreg.core.deformation.inflate import inflated_length
from dicomreg.core.deformation.nifti import parse_nifti_header
from dicomreg.core.formats import file_suffix

__all__ = ["IncompleteFileError", "check_complete"]


class IncompleteFileError(ValueError):
    """The file holds fewer voxel bytes than its header promises; the message says how many."""


def check_complete(path: str | Path) -> None:
    """Raise :class:`IncompleteFileError` if ``path`` is shorter than its header promises.

    Files of other kinds, and headers this check cannot read, pass: SimpleITK then reads (or
    refuses) them as before.
    """
    path = Path(path)
    suffix = file_suffix(path)
    if suffix == ".nii":
        with open(path, "rb") as handle:
            promised = _nifti_extent(handle.read(540))
        _compare(path, promised, path.stat().st_size)
    elif suffix == ".nii.gz":
        _check_gzip_nifti(path)
    elif suffix == ".hdr":
        with open(path, "rb") as handle:
            promised = _nifti_extent(handle.read(540), pair=True)
        image_file = path.with_suffix(".img")
        if promised is not None and image_file.exists():
            _compare(image_file, promised, image_file.stat().st_size)
    elif suffix == ".vtk":
        _check_vtk(path)


def _compare(path: Path, promised: int | None, holds: int, verb: str = "holds") -> None:
    if promised is not None and holds < promised:
        raise IncompleteFileError(f"'{path}' {verb} {holds} bytes but its header promises "
                                  f"{promised} (a truncated file); expected a complete copy")


def _nifti_extent(head: bytes, pair: bool = False) -> int | None:
    """The bytes a NIfTI-1/2 or Analyze header promises: to the end of its voxels (in the
    same file) or the voxels alone (in the .img file of a pair)."""
    header = parse_nifti_header(head)
    if header is None or header.voxel_bytes is None:
        return None
    return (0 if pair else int(header.vox_offset)) + header.voxel_bytes


def _check_gzip_nifti(path: Path) -> None:
    try:
        with gzip.open(path, "rb") as handle:
            promised = _nifti_extent(handle.read(540))
    except (OSError, EOFError, zlib.error):
        return  # not gzip, or broken at its start: SimpleITK's refusal says so
    if promised is None:
        return
    with open(path, "rb") as handle:
        handle.seek(-4, 2)
        trailer = struct.unpack("<I", handle.read(4))[0]  # ISIZE: length modulo 2**32
    if trailer == promised % (1 << 32):
        return
    # A truncated stream ends with arbitrary bytes; a stream followed by other data does not.
    # Only a full count tells them apart.
    with open(path, "rb") as handle:
        _compare(path, promised, inflated_length(handle), "decompresses to")


def _check_vtk(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    lines = head.split(b"\n")
    if len(lines) < 4 or lines[2].strip().upper() != b"BINARY":
        return
    dims = components = size = None
    position = 0
    for line in lines:
        position += len(line) + 1
        words = line.split()
        if not words:
            continue
        keyword = words[0].upper()
        if keyword == b"DIMENSIONS" and len(words) == 4:
            dims = [int(w) for w in words[1:]]
        elif keyword == b"VECTORS" and len(words) >= 3:
            components, size = 3, _VTK_SIZES.get(words[2].lower())
            break
        elif keyword == b"SCALARS" and len(words) >= 3:
            components = int(words[3]) if len(words) > 3 else 1
            size = _VTK_SIZES.get(words[2].lower())
        elif keyword == b"LOOKUP_TABLE":
            break
    else:
        return
    if dims is None or components is None or size is None:
        return
    promised = position + dims[0] * dims[1] * dims[2] * components * size
    _compare(path, promised, path.stat().st_size)


_VTK_SIZES = {b"unsigned_char": 1, b"char": 1, b"unsigned_short": 2, b"short": 2,
              b"unsigned_int": 4, b"int": 4, b"unsigned_long": 8, b"long": 8, b"float": 4,
              b"double": 8}
