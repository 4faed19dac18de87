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

import numpy as np

from dicomreg.core.deformation.inflate import inflated_length
from dicomreg.core.deformation.nifti import parse_nifti_header, validate_nifti_header
from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import file_suffix
from dicomreg.core.input import InputLimitError, check_field_size, require_regular_file

__all__ = ["IncompleteFileError", "check_complete"]


class IncompleteFileError(DicomRegError):
    """The file holds fewer voxel bytes than its header promises; the message says how many."""


def check_complete(path: str | Path) -> None:
    """Raise :class:`IncompleteFileError` if ``path``'s header is malformed or promises more
    than the file holds, or than :func:`~dicomreg.core.input.max_field_bytes`.

    Files of other kinds pass: SimpleITK then reads (or refuses) them as before.
    """
    path = Path(path)
    suffix = file_suffix(path)
    try:
        if suffix == ".nii":
            with open(path, "rb") as handle:
                promised = _nifti_extent(path, handle.read(540))
            _compare(path, promised, path.stat().st_size)
        elif suffix == ".nii.gz":
            _check_gzip_nifti(path)
        elif suffix == ".hdr":
            with open(path, "rb") as handle:
                promised = _nifti_extent(path, handle.read(540), pair=True)
            image_file = path.with_suffix(".img")
            if promised is not None and image_file.exists():
                _compare(image_file, promised, image_file.stat().st_size)
        elif suffix == ".vtk":
            _check_vtk(path)
        elif suffix in (".nrrd", ".nhdr"):
            _check_nrrd(path)
    except IncompleteFileError:
        raise
    except InputLimitError as error:
        raise IncompleteFileError(str(error)) from None
    except ValueError as error:
        raise IncompleteFileError(f"cannot read '{path}': {error}") from None


def _compare(path: Path, promised: int | None, holds: int, verb: str = "holds") -> None:
    if promised is not None and holds < promised:
        raise IncompleteFileError(f"'{path}' {verb} {holds} bytes but its header promises "
                                  f"{promised} (a truncated file); expected a complete copy")


def _nifti_extent(path: Path, head: bytes, pair: bool = False) -> int | None:
    """The bytes a NIfTI-1/2 or Analyze header promises: to the end of its voxels (in the
    same file) or the voxels alone (in the .img file of a pair); its values checked first,
    and its voxels against the field size limit."""
    header = parse_nifti_header(head)
    if header is None:
        return None
    validate_nifti_header(header)
    if header.voxel_bytes is None:
        return None
    check_field_size(path, header.voxel_bytes)
    return (0 if pair else int(header.vox_offset)) + header.voxel_bytes


def _check_gzip_nifti(path: Path) -> None:
    try:
        with gzip.open(path, "rb") as handle:
            head = handle.read(540)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"its gzip stream is damaged at its start ({error})") from None
    header = parse_nifti_header(head)
    if header is not None and header.voxel_bytes is not None:
        validate_nifti_header(header)
        check_field_size(path, header.voxel_bytes, compressed_bytes=path.stat().st_size)
    promised = _nifti_extent(path, head)
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


def _whole(words: list[bytes], what: str) -> list[int]:
    if not words or not all(w.isdigit() and int(w) > 0 for w in words):
        raise ValueError(f"its {what} {b' '.join(words).decode('latin-1')!r} are not "
                         "positive whole numbers")
    return [int(w) for w in words]


def _finite_three(words: list[bytes], positive: bool) -> None:
    """A VTK SPACING or ORIGIN line: three finite numbers (ITK fills in what is missing with
    whatever its memory holds)."""
    try:
        values = [float(w) for w in words[1:]]
    except ValueError:
        values = []
    if len(values) != 3 or not all(np.isfinite(v) and (v > 0 or not positive)
                                   for v in values):
        raise ValueError(f"its {words[0].decode('latin-1')} "
                         f"{b' '.join(words[1:]).decode('latin-1')!r} is not three finite "
                         f"{'positive ' if positive else ''}numbers")


def _check_vtk(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    lines = head.split(b"\n")
    if len(lines) < 4:
        return
    binary = lines[2].strip().upper() == b"BINARY"
    dims = components = size = None
    position = 0
    for line in lines:
        position += len(line) + 1
        words = line.split()
        if not words:
            continue
        keyword = words[0].upper()
        if keyword in (b"SPACING", b"ORIGIN", b"ASPECT_RATIO"):
            _finite_three(words, positive=keyword != b"ORIGIN")
        elif keyword == b"DIMENSIONS":
            dims = _whole(words[1:], "DIMENSIONS")
            if len(dims) != 3:
                raise ValueError("its DIMENSIONS are not three numbers")
        elif keyword == b"VECTORS" and len(words) >= 3:
            components, size = 3, _VTK_SIZES.get(words[2].lower())
            break
        elif keyword == b"SCALARS" and len(words) >= 3:
            components = _whole(words[3:4], "components")[0] if len(words) > 3 else 1
            size = _VTK_SIZES.get(words[2].lower())
        elif keyword == b"LOOKUP_TABLE":
            break
    else:
        return
    if dims is None or components is None or size is None:
        return
    voxel_bytes = dims[0] * dims[1] * dims[2] * components * size
    if binary:
        _compare(path, position + voxel_bytes, path.stat().st_size)
        check_field_size(path, voxel_bytes)
    else:  # ASCII: each value takes at least two characters (a digit and a blank)
        check_field_size(path, voxel_bytes)
        _compare(path, voxel_bytes // size * 2, path.stat().st_size - position)


def _check_nrrd(path: Path) -> None:
    """A NRRD header read strictly: sizes, its data file beside it, the size it claims."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if not head.startswith(b"NRRD"):
        return
    end = head.find(b"\n\n")
    if end < 0:
        raise ValueError("its header does not end (no blank line in its first 64 KB)")
    fields: dict[str, str] = {}
    for line in head[:end].decode("latin-1").splitlines()[1:]:
        if line.startswith("#") or ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields[key.strip().lower().replace(" ", "")] = value.lstrip("=").strip()
    sizes = _whole(fields.get("sizes", "").encode().split(), "sizes")
    if not fields.get("dimension", "").isdigit() or int(fields["dimension"]) != len(sizes) \
            or len(sizes) > 16:
        raise ValueError(f"its dimension {fields.get('dimension', '')!r} does not match its "
                         f"{len(sizes)} sizes")
    size = _NRRD_SIZES.get(fields.get("type", "").lower())
    if size is None:
        raise ValueError(f"its type {fields.get('type', '')!r} is not a NRRD number type")
    voxel_bytes = size
    for n in sizes:
        voxel_bytes *= n
    data = path
    name = fields.get("datafile", fields.get("data_file"))
    if name is not None:
        data = (path.parent / name).resolve()
        if Path(name).is_absolute() or data.parent != path.parent.resolve() or \
                name.upper().startswith("LIST") or " " in name:
            raise ValueError(f"its data file {name!r} is not one file beside the header; "
                             "expected a data file in the header's folder")
        data = require_regular_file(data, "data file")
    available = data.stat().st_size - (end + 2 if data == path else 0)
    encoding = fields.get("encoding", "raw").lower()
    if encoding in ("ascii", "text", "txt", "hex"):
        check_field_size(path, voxel_bytes)
        _require_plain_text(path, data, end + 2 if data == path else 0)
    elif encoding == "raw":  # a truncation within the limit: ITK refuses it, and says so
        check_field_size(path, voxel_bytes)
    elif encoding in ("gzip", "gz", "bzip2", "bz2"):
        check_field_size(path, voxel_bytes, compressed_bytes=available)
    else:
        check_field_size(path, voxel_bytes)


_TEXT_BYTES = bytes(range(32, 127)) + b"\t\n\r\x0b\x0c"


def _require_plain_text(path: Path, data: Path, start: int) -> None:
    """A NRRD's text-encoded voxels (ascii, hex) are printable characters and blanks only:
    teem's text reader runs past a NUL or other control byte (a native crash)."""
    with open(data, "rb") as handle:
        handle.seek(start)
        at = start
        while chunk := handle.read(1 << 20):
            odd = chunk.translate(None, _TEXT_BYTES)
            if odd:
                where = at + chunk.index(odd[:1])
                raise ValueError(f"its text-encoded voxels hold the byte {odd[0]:#04x} at "
                                 f"offset {where} of '{data.name}'; expected numbers and "
                                 "blanks only")
            at += len(chunk)


_NRRD_SIZES = {name: size for size, names in {
    1: "int8 uint8 char uchar signed_char unsigned_char int8_t uint8_t",
    2: "short ushort int16 uint16 short_int signed_short signed_short_int unsigned_short "
       "unsigned_short_int int16_t uint16_t",
    4: "int uint int32 uint32 signed_int unsigned_int int32_t uint32_t float",
    8: "longlong ulonglong int64 uint64 long_long signed_long_long unsigned_long_long "
       "long_long_int signed_long_long_int unsigned_long_long_int int64_t uint64_t double",
}.items() for name in names.split()}
_VTK_SIZES = {b"unsigned_char": 1, b"char": 1, b"unsigned_short": 2, b"short": 2,
              b"unsigned_int": 4, b"int": 4, b"unsigned_long": 8, b"long": 8, b"float": 4,
              b"double": 8}
