"""NIfTI-1 fields read without SimpleITK's copies: memory-mapped (.nii) or inflated once
(.nii.gz).

NIfTI stores a vector field component by component (x fastest, then y, z, time, and the
vector index last), so ITK's reader reorders it into interleaved vectors and holds the field
about three times while it does. Here the voxels stay in the stored order, (3, Z, Y, X), and
the field is a (Z, Y, X, 3) view of them: the writer gathers each chunk it streams. The
geometry is ITK's own (SimpleITK reads the header only), so that both readers agree on
qform, sform and the turn into LPS.

Two things ITK does to the values are done here too, on one float copy: the components of a
displacement-vector field (intent 1006) are RAS by NIfTI's rule and are turned into LPS, as
ITK 5.4 does; and intensity scaling (scl_slope, scl_inter) is applied, to every component:
ITK 5.4 applies it to only the first third of a vector image's values (measured), so for
scaled vector files this reader is the correct one.

Only the two layouts of a field are read here: a 3-component vector field (x, y, z, 1, 3), or
three volumes (x, y, z, 3) (not with intent 1006, which ITK misreads), of a plain numeric
type. Anything else returns None, and SimpleITK reads the file as before.
"""

from __future__ import annotations

import gzip
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dicomreg.core.deformation.inflate import inflate
from dicomreg.core.formats import file_suffix
from dicomreg.core.image import Geometry, Image
from dicomreg.core.itk import native_stderr

__all__ = ["DISPLACEMENT_VECTOR_NOTE", "NiftiHeader", "parse_nifti_header", "read_nifti",
           "validate_nifti_header"]

_TYPES = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2", 768: "u4",
          1024: "i8", 1280: "u8"}
_DISPLACEMENT_VECTOR = 1006
DISPLACEMENT_VECTOR_NOTE = ("NIfTI displacement-vector field (intent 1006): its RAS "
                            "components were turned into LPS on reading")


def read_nifti(path: str | Path, volumes_note: str) -> Image | None:
    """The field in a NIfTI-1 file as a (Z, Y, X, 3) view of its stored voxels; None when not
    handled here (see the module documentation).

    ``volumes_note`` is the note to give the image when its components are three volumes.

    Raises
    ------
    ValueError
        If the file holds fewer voxels than its header promises, or its compressed stream
        is damaged.
    """
    path = Path(path)
    suffix = file_suffix(path)
    if suffix not in (".nii", ".nii.gz"):
        return None
    opener = gzip.open if suffix == ".nii.gz" else open
    try:
        with opener(path, "rb") as handle:
            head = handle.read(348)
    except (OSError, EOFError):
        return None
    header = _header(head)
    if header is None:
        return None
    dims, dtype, offset, intent, scaling = header
    if dims[0] == 5 and dims[4] == 1 and dims[5] == 3:
        volumes = False
    elif dims[0] == 4 and dims[4] == 3 and intent != _DISPLACEMENT_VECTOR:
        volumes = True
    else:
        return None
    x, y, z = dims[1:4]
    # The voxels first: a damaged file is named as such before ITK is asked about it.
    stored, owner = _stored_voxels(path, dtype, offset, (3, z, y, x))
    geometry = _itk_geometry(path, volumes)
    if geometry is None:
        return None
    voxels = np.moveaxis(stored, 0, -1)  # (Z, Y, X, 3), no copy
    conversion = ""
    if scaling is not None or intent == _DISPLACEMENT_VECTOR:
        voxels, owner = _scaled_to_lps(voxels, dtype, scaling, intent), None
        conversion = DISPLACEMENT_VECTOR_NOTE if intent == _DISPLACEMENT_VECTOR else ""
    return Image(voxels=voxels, geometry=geometry, source=str(path), owner=owner,
                 lps_conversion=conversion, reading_note=volumes_note if volumes else "")


def _stored_voxels(path: Path, dtype: np.dtype, offset: int, shape: tuple[int, ...]
                   ) -> tuple[np.ndarray, np.memmap | None]:
    """The voxels as stored, and the map that owns them: memory-mapped from a .nii, inflated
    from a .nii.gz (owned by nobody)."""
    count = math.prod(shape) * dtype.itemsize
    if file_suffix(path) == ".nii":
        available = path.stat().st_size
        if offset + count > available:
            raise ValueError(f"its header promises {offset + count} bytes but the file holds "
                             f"{available} (a truncated file)")
        stored = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
        return stored, stored
    with open(path, "rb") as handle:
        return inflate(handle, count, gzip=True, skip=offset, exact=False
                       ).view(dtype).reshape(shape), None


def _scaled_to_lps(voxels: np.ndarray, dtype: np.dtype, scaling: tuple[float, float] | None,
                   intent: int) -> np.ndarray:
    """A copy of the vectors with the header's scaling applied, and a displacement-vector
    field's RAS components turned into LPS."""
    voxels = np.array(voxels, dtype=np.float64 if dtype.itemsize == 8 else np.float32)
    if scaling is not None:
        voxels *= scaling[0]
        voxels += scaling[1]
    if intent == _DISPLACEMENT_VECTOR:
        voxels[..., :2] *= -1
    return voxels


@dataclass(frozen=True)
class NiftiHeader:
    """The fields of a NIfTI-1, NIfTI-2 or Analyze 7.5 header that locate and type the voxels.

    ``dims`` is NIfTI's dim[8]: the number of dimensions, then the sizes. ``single_file`` is
    true for a .nii header (magic "n+1" or "n+2"); false for Analyze and .hdr/.img pairs.
    """

    version: int
    byte_order: str
    single_file: bool
    dims: tuple[int, ...]
    datatype: int
    bitpix: int
    vox_offset: float
    intent: int
    slope: float
    intercept: float
    pixdim: tuple[float, ...] = (1.0,) * 8

    @property
    def voxel_bytes(self) -> int | None:
        """How many bytes the voxels take; None when the header cannot say."""
        if not 1 <= self.dims[0] <= 7 or self.bitpix <= 0 or self.bitpix % 8:
            return None
        count = 1
        for n in self.dims[1 : self.dims[0] + 1]:
            count *= max(int(n), 1)
        return count * self.bitpix // 8


def parse_nifti_header(head: bytes) -> NiftiHeader | None:
    """The header at the start of ``head`` (its first 540 bytes suffice), in either byte
    order; None when it is neither NIfTI-1 (or Analyze) nor NIfTI-2."""
    for order in "<>":
        if len(head) >= 348 and struct.unpack(order + "i", head[:4])[0] == 348:
            slope, intercept = struct.unpack(order + "2f", head[112:120])
            return NiftiHeader(
                version=1, byte_order=order, single_file=head[344:348] == b"n+1\x00",
                dims=struct.unpack(order + "8h", head[40:56]),
                intent=struct.unpack(order + "h", head[68:70])[0],
                datatype=struct.unpack(order + "h", head[70:72])[0],
                bitpix=struct.unpack(order + "h", head[72:74])[0],
                vox_offset=struct.unpack(order + "f", head[108:112])[0],
                pixdim=struct.unpack(order + "8f", head[76:108]),
                slope=slope, intercept=intercept)
        if len(head) >= 540 and struct.unpack(order + "i", head[:4])[0] == 540:
            slope, intercept = struct.unpack(order + "2d", head[176:192])
            return NiftiHeader(
                version=2, byte_order=order, single_file=head[4:8] == b"n+2\x00",
                datatype=struct.unpack(order + "h", head[12:14])[0],
                bitpix=struct.unpack(order + "h", head[14:16])[0],
                dims=struct.unpack(order + "8q", head[16:80]),
                vox_offset=float(struct.unpack(order + "q", head[168:176])[0]),
                intent=struct.unpack(order + "i", head[504:508])[0],
                pixdim=struct.unpack(order + "8d", head[104:168]),
                slope=slope, intercept=intercept)
    return None


_DATATYPE_NAMES = {1: "binary", 32: "complex64", 128: "RGB", 1536: "float128",
                   1792: "complex128", 2048: "complex256", 2304: "RGBA"}


def validate_nifti_header(header: NiftiHeader) -> None:
    """Refuse, before ITK or a reader sees it, a header whose values a field cannot have
    (ITK crashes on some: RGB data, absurd dimensions).

    Raises
    ------
    ValueError
        Naming the value and what is accepted.
    """
    dims = header.dims
    if not 1 <= dims[0] <= 7:
        raise ValueError(f"its dim[0] {dims[0]} is not a number of dimensions 1 to 7")
    if any(n < 1 for n in dims[1 : dims[0] + 1]):
        raise ValueError(f"its dimensions {list(dims[1 : dims[0] + 1])} are not all "
                         "positive")
    if header.datatype not in _TYPES:
        name = _DATATYPE_NAMES.get(header.datatype, "unknown")
        raise ValueError(f"its datatype {header.datatype} ({name}) is not a real number "
                         "type a field holds; expected one of "
                         + " ".join(str(t) for t in _TYPES))
    if header.bitpix != np.dtype(_TYPES[header.datatype]).itemsize * 8:
        raise ValueError(f"its bitpix {header.bitpix} does not match its datatype "
                         f"{header.datatype}")
    offset = header.vox_offset
    if not np.isfinite(offset) or offset != int(offset) or (
            header.single_file and offset < (348 if header.version == 1 else 540)):
        raise ValueError(f"its vox_offset {offset} is not a whole byte offset after the "
                         "header")
    spatial = header.pixdim[1 : min(dims[0], 3) + 1]
    if not all(np.isfinite(spatial)) or not all(v > 0 for v in spatial):
        raise ValueError(f"its voxel sizes (pixdim) {[float(v) for v in spatial]} are not "
                         "finite and positive (millimetres)")


def _header(head: bytes
            ) -> tuple[tuple[int, ...], np.dtype, int, int, tuple[float, float] | None] | None:
    """Dimensions, voxel type, data offset, intent and scaling (None: none) of a single-file
    NIfTI-1 header this reader handles; None for any other."""
    header = parse_nifti_header(head)
    if header is None or header.version != 1 or not header.single_file:
        return None
    dims, offset = header.dims, header.vox_offset
    if header.datatype not in _TYPES or header.voxel_bytes is None:
        return None
    if offset < 348 or offset != int(offset) or any(n < 1 for n in dims[1:dims[0] + 1]):
        return None
    # NIfTI's rule, as ITK reads it: a slope of 0 means no scaling.
    slope, intercept = header.slope, header.intercept
    scaling = (slope, intercept) if slope != 0 and (slope != 1 or intercept != 0) else None
    if scaling is not None and not all(np.isfinite(scaling)):
        return None
    return (dims, np.dtype(header.byte_order + _TYPES[header.datatype]), int(offset),
            header.intent, scaling)


def _itk_geometry(path: Path, volumes: bool) -> Geometry | None:
    """The grid as ITK reads it from the header (no voxels read)."""
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        with native_stderr():  # ITK's warnings (unexpected sform scales) are not ours to print
            reader.ReadImageInformation()
    except RuntimeError:
        return None
    if reader.GetDimension() != (4 if volumes else 3) or (
            reader.GetNumberOfComponents() != (1 if volumes else 3)):
        return None
    return Geometry.from_itk(reader.GetSize(), reader.GetSpacing(), reader.GetOrigin(),
                             reader.GetDirection())
