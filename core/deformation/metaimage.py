"""Uncompressed MetaImage (.mha, .mhd) fields, memory-mapped instead of read.

SimpleITK reads a whole image into memory, and holds it twice for a moment while it does; a
512x512x200 field (629 MB) then needs 1.3 GB. An uncompressed MetaImage is a text header and
the raw voxels, so the voxels can be memory-mapped where they lie: nothing is read until it
is used, and the writer streams them to the REG chunk by chunk.

A compressed MetaImage (zlib) is decompressed here too, into one array, because ITK reads a
corrupt or truncated stream without failing (it prints "Uncompress failed" and returns zeros):
here every voxel must come out of the stream, or the file is refused. That also holds the
field once, where SimpleITK holds it twice; a save holds none of it (``streamed``: the
voxels are inflated as the REG is written, :mod:`.streamed`). Anything this reader does not
handle (a list of data files, an unusual layout) returns None, and SimpleITK reads the file
as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dicomreg.core.deformation.inflate import inflate
from dicomreg.core.deformation.streamed import StreamedVoxels
from dicomreg.core.image import Geometry, Image
from dicomreg.core.input import check_field_size, require_regular_file

__all__ = ["read_metaimage"]

_TYPES = {
    "MET_UCHAR": "u1", "MET_CHAR": "i1", "MET_USHORT": "u2", "MET_SHORT": "i2",
    "MET_UINT": "u4", "MET_INT": "i4", "MET_ULONG": "u8", "MET_LONG": "i8",
    "MET_ULONG_LONG": "u8", "MET_LONG_LONG": "i8", "MET_FLOAT": "f4", "MET_DOUBLE": "f8",
}  # fmt: skip
_MAX_HEADER = 64 * 1024


def _header(path: Path) -> tuple[dict[str, str], int]:
    """The header's keys and the offset just after it (for .mha, where the data follow).

    Raises
    ------
    ValueError
        If the file does not start with a complete MetaImage header.
    """
    with open(path, "rb") as handle:
        head = handle.read(_MAX_HEADER)
    fields: dict[str, str] = {}
    position = 0
    while position < len(head):
        end = head.find(b"\n", position)
        if end < 0:
            break
        line = head[position:end].decode("latin-1").strip()
        position = end + 1
        if not line:
            continue
        if "=" not in line:
            raise ValueError(f"its line {line[:40]!r} is not KEY = VALUE; expected a "
                             "MetaImage header")
        key, value = (part.strip() for part in line.split("=", 1))
        fields[key] = value
        if key == "ElementDataFile":  # always the last key
            return fields, position
    raise ValueError("its header has no ElementDataFile line; expected a complete MetaImage "
                     "header")


def _integers(fields: dict[str, str], key: str, count: int | None, default: str | None,
              minimum: int = 1) -> tuple[int, ...]:
    """Whole numbers of at least ``minimum``, ``count`` of them (None: one or more)."""
    words = fields.get(key, default if default is not None else "").split()
    if not words or (count is not None and len(words) != count) or not all(
            w.isdigit() and int(w) >= minimum for w in words):
        many = f"{count} whole numbers" if count is not None else "a whole number"
        raise ValueError(f"its {key} {fields.get(key, '')!r} is not {many} >= {minimum}")
    return tuple(int(w) for w in words)


def _numbers(fields: dict[str, str], key: str, count: int, default: str,
             positive: bool = False) -> tuple[float, ...]:
    text = fields.get(key, default)
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        values = ()
    if len(values) != count or not all(np.isfinite(values)) or (
            positive and not all(v > 0 for v in values)):
        kind = "positive finite numbers" if positive else "finite numbers"
        raise ValueError(f"its {key} {text!r} is not {count} {kind}")
    return values


def _data_path(path: Path, name: str) -> Path:
    """A detached data file, which must lie in the header's folder: a header from elsewhere
    must not make dicomreg read (and copy into a REG) any file of the machine."""
    data_path = (path.parent / name).resolve()
    if Path(name).is_absolute() or data_path.parent != path.parent.resolve():
        raise ValueError(f"its ElementDataFile {name!r} is outside the header's folder; "
                         "expected a data file beside the header")
    return data_path


def read_metaimage(path: str | Path, *, streamed: bool = False) -> Image | None:
    """The field in a MetaImage file: memory-mapped when uncompressed, decompressed into one
    array when compressed (with ``streamed``, a :class:`.streamed.StreamedVoxels` that
    inflates while the REG is written); None when not handled here (not 3-D, a list of data
    files).

    The header is read strictly, before anything is allocated or ITK sees it: whole positive
    dimensions, finite numbers, a data file beside the header, a size the file can hold and
    within :func:`~dicomreg.core.input.max_field_bytes`.

    Raises
    ------
    ValueError
        If the header is malformed, promises more data than the file holds (a truncated
        file), or the compressed stream is corrupt or ends early.
    """
    path = Path(path)
    fields, data_start = _header(path)
    ndims, size, spacing, origin, matrix = _grid_keys(fields)
    (channels,) = _integers(fields, "ElementNumberOfChannels", 1, "1")
    if fields.get("ElementType") not in _TYPES:
        raise ValueError(f"its ElementType {fields.get('ElementType', '')!r} is not one of "
                         + " ".join(_TYPES))
    compressed = fields.get("CompressedData", "False") == "True"
    data_file = fields["ElementDataFile"]
    if ndims != 3 or fields.get("BinaryData", "True") != "True" or data_file.startswith(
            "LIST") or "%" in data_file:
        return None
    if data_file == "LOCAL":
        data_path, offset = path, data_start
    else:
        data_path = _data_path(path, data_file)
        (header_size,) = _integers(fields, "HeaderSize", 1, "0", minimum=-1)
        offset = header_size if header_size >= 0 else None  # -1: the data end the file
    byte_order = ">" if fields.get("BinaryDataByteOrderMSB", "False") == "True" else "<"
    dtype = np.dtype(byte_order + _TYPES[fields["ElementType"]])
    x, y, z = size
    shape = (z, y, x, channels) if channels > 1 else (z, y, x)
    count = x * y * z * channels * dtype.itemsize
    data_path = require_regular_file(data_path, "data file")
    available = data_path.stat().st_size
    if compressed:
        if offset is None:
            return None  # "HeaderSize = -1" cannot locate a compressed stream
        stored = _stored_size(path, fields, data_path, offset, count)
        if streamed:
            voxels = StreamedVoxels(path, data_path, offset, stored, dtype, shape)
        else:
            with open(data_path, "rb") as handle:
                handle.seek(offset)
                voxels = inflate(handle, count, stored=stored).view(dtype).reshape(shape)
        return Image(voxels=voxels, geometry=_geometry(size, spacing, origin, matrix),
                     source=str(path))
    if offset is None:
        offset = available - count
    if offset < 0 or offset + count > available:
        raise ValueError(f"its header promises {count} bytes of voxels but the file holds "
                         f"{max(0, available - max(offset, 0))} (a truncated file?)")
    check_field_size(path, count)
    voxels = np.memmap(data_path, dtype=dtype, mode="r", offset=offset, shape=shape)
    return Image(voxels=voxels, geometry=_geometry(size, spacing, origin, matrix),
                 source=str(path), owner=voxels)


def _grid_keys(fields: dict[str, str]) -> tuple[int, tuple[int, ...], tuple[float, ...],
                                                tuple[float, ...], tuple[float, ...]]:
    """NDims, and the grid's DimSize, ElementSpacing, origin and TransformMatrix."""
    (ndims,) = _integers(fields, "NDims", 1, None)
    if ndims > 16:
        raise ValueError(f"its NDims {ndims} is beyond 16; expected 3 (a field)")
    size = _integers(fields, "DimSize", ndims, None)
    spacing = _numbers(fields, "ElementSpacing", ndims, " ".join(["1"] * ndims), positive=True)
    origin = _numbers(fields, "Offset" if "Offset" in fields else "Origin", ndims,
                      " ".join(["0"] * ndims))
    matrix = _numbers(fields, "TransformMatrix", ndims * ndims,
                      " ".join("1" if i % (ndims + 1) == 0 else "0" for i in range(ndims**2)))
    return ndims, size, spacing, origin, matrix


def _stored_size(path: Path, fields: dict[str, str], data_path: Path, offset: int,
                 count: int) -> int:
    """How many compressed bytes the stream at ``offset`` may take (its CompressedDataSize,
    within the file), once ``count`` inflated bytes are known to be within the limit."""
    available = data_path.stat().st_size
    (stored,) = _integers(fields, "CompressedDataSize", 1, str(max(available - offset, 0)),
                          minimum=0)
    stored = min(stored, max(available - offset, 0))
    check_field_size(path, count, compressed_bytes=stored)
    return stored


def _geometry(size: tuple[float, ...], spacing: tuple[float, ...], origin: tuple[float, ...],
              matrix: tuple[float, ...]) -> Geometry:
    # MetaImage lists the direction column by column: TransformMatrix is its transpose.
    direction = np.asarray(matrix).reshape(3, 3).T.ravel()
    geometry = Geometry.from_itk(size, spacing, origin, direction)
    assert geometry is not None  # three dimensions
    return geometry
