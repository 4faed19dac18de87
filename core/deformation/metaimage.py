"""Uncompressed MetaImage (.mha, .mhd) fields, memory-mapped instead of read.

SimpleITK reads a whole image into memory, and holds it twice for a moment while it does; a
512x512x200 field (629 MB) then needs 1.3 GB. An uncompressed MetaImage is a text header and
the raw voxels, so the voxels can be memory-mapped where they lie: nothing is read until it
is used, and the writer streams them to the REG chunk by chunk.

A compressed MetaImage (zlib) is decompressed here too, into one array, because ITK reads a
corrupt or truncated stream without failing (it prints "Uncompress failed" and returns zeros):
here every voxel must come out of the stream, or the file is refused. That also holds the
field once, where SimpleITK holds it twice. Anything this reader does not handle (a list of
data files, an unusual layout) returns None, and SimpleITK reads the file as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dicomreg.core.deformation.inflate import inflate
from dicomreg.core.image import Geometry, Image

__all__ = ["read_metaimage"]

_TYPES = {
    "MET_UCHAR": "u1", "MET_CHAR": "i1", "MET_USHORT": "u2", "MET_SHORT": "i2",
    "MET_UINT": "u4", "MET_INT": "i4", "MET_ULONG": "u8", "MET_LONG": "i8",
    "MET_ULONG_LONG": "u8", "MET_LONG_LONG": "i8", "MET_FLOAT": "f4", "MET_DOUBLE": "f8",
}  # fmt: skip
_MAX_HEADER = 64 * 1024


def _header(path: Path) -> tuple[dict[str, str], int] | None:
    """The header's keys and the offset just after it (for .mha, where the data follow)."""
    with open(path, "rb") as handle:
        head = handle.read(_MAX_HEADER)
    fields: dict[str, str] = {}
    position = 0
    while position < len(head):
        end = head.find(b"\n", position)
        if end < 0:
            return None
        line = head[position:end].decode("latin-1").strip()
        position = end + 1
        if "=" not in line:
            return None
        key, value = (part.strip() for part in line.split("=", 1))
        fields[key] = value
        if key == "ElementDataFile":  # always the last key
            return fields, position
    return None


def _numbers(text: str, count: int) -> tuple[float, ...] | None:
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        return None
    return values if len(values) == count else None


def read_metaimage(path: str | Path) -> Image | None:
    """The field in a MetaImage file: memory-mapped when uncompressed, decompressed into one
    array when compressed; None when not handled here.

    Raises
    ------
    ValueError
        If the header promises more data than the file holds (a truncated file), or the
        compressed stream is corrupt or ends early.
    """
    path = Path(path)
    parsed = _header(path)
    if parsed is None:
        return None
    fields, data_start = parsed
    compressed = fields.get("CompressedData", "False") == "True"
    if (fields.get("NDims") != "3" or fields.get("BinaryData", "True") != "True"
            or fields.get("ElementType") not in _TYPES):
        return None
    size = _numbers(fields.get("DimSize", ""), 3)
    spacing = _numbers(fields.get("ElementSpacing", "1 1 1"), 3)
    origin = _numbers(fields.get("Offset", fields.get("Origin", "0 0 0")), 3)
    matrix = _numbers(fields.get("TransformMatrix", "1 0 0 0 1 0 0 0 1"), 9)
    channels = int(fields.get("ElementNumberOfChannels", "1"))
    if size is None or spacing is None or origin is None or matrix is None:
        return None
    data_file = fields["ElementDataFile"]
    if data_file == "LOCAL":
        data_path, offset = path, data_start
    elif data_file.startswith("LIST") or "%" in data_file:
        return None
    else:
        data_path = path.parent / data_file
        header_size = int(fields.get("HeaderSize", "0"))
        offset = header_size if header_size >= 0 else None  # -1: the data end the file
    byte_order = ">" if fields.get("BinaryDataByteOrderMSB", "False") == "True" else "<"
    dtype = np.dtype(byte_order + _TYPES[fields["ElementType"]])
    x, y, z = (int(n) for n in size)
    shape = (z, y, x, channels) if channels > 1 else (z, y, x)
    count = int(np.prod(shape)) * dtype.itemsize
    available = data_path.stat().st_size
    if compressed:
        if offset is None:
            return None  # "HeaderSize = -1" cannot locate a compressed stream
        stored = int(fields.get("CompressedDataSize", available - offset))
        with open(data_path, "rb") as handle:
            handle.seek(offset)
            voxels = inflate(handle, count, stored=min(stored, available - offset)
                             ).view(dtype).reshape(shape)
        return Image(voxels=voxels, geometry=_geometry(size, spacing, origin, matrix),
                     source=str(path))
    if offset is None:
        offset = available - count
    if offset < 0 or offset + count > available:
        raise ValueError(f"its header promises {count} bytes of voxels but the file holds "
                         f"{max(0, available - offset)} (a truncated file?)")
    voxels = np.memmap(data_path, dtype=dtype, mode="r", offset=offset, shape=shape)
    return Image(voxels=voxels, geometry=_geometry(size, spacing, origin, matrix),
                 source=str(path), owner=voxels)


def _geometry(size: tuple[float, ...], spacing: tuple[float, ...], origin: tuple[float, ...],
              matrix: tuple[float, ...]) -> Geometry:
    # MetaImage lists the direction column by column: TransformMatrix is its transpose.
    direction = np.asarray(matrix).reshape(3, 3).T.ravel()
    geometry = Geometry.from_itk(size, spacing, origin, direction)
    assert geometry is not None  # three dimensions
    return geometry
