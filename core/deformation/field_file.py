"""Displacement field image files, read and written through SimpleITK.

A field file holds, on the fixed image's grid, the vector from each fixed voxel centre to its
position in the moving image (ITK's convention: a pull-back field, millimetres, LPS).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from dicomreg.core.deformation.completeness import IncompleteFileError, check_complete
from dicomreg.core.deformation.metaimage import read_metaimage
from dicomreg.core.deformation.nifti import DISPLACEMENT_VECTOR_NOTE, read_nifti
from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import FIELD_SUFFIXES, file_suffix
from dicomreg.core.image import Geometry, Image
from dicomreg.core.input import InputLimitError, require_regular_file
from dicomreg.core.itk import itk_reason, native_stderr
from dicomreg.core.output import IMAGE_FILE, atomic_output

__all__ = [
    "FIELD_SUFFIXES",
    "FieldFileError",
    "read_displacement_field",
    "write_displacement_field",
]



class FieldFileError(DicomRegError):
    """A displacement field file that cannot be used; the message says why."""


def _accepted() -> str:
    return "a 3-D image with 3 components per voxel (" + " ".join(FIELD_SUFFIXES) + ")"


def read_displacement_field(path: str | os.PathLike[str], *, streamed: bool = False) -> Image:
    """Read a displacement field image file.

    An uncompressed MetaImage (.mha, .mhd) is memory-mapped and a compressed one inflated
    once (:mod:`.metaimage`); a plain NIfTI-1 vector field is memory-mapped (.nii) or
    inflated once (.nii.gz) and viewed in its stored order (:mod:`.nifti`); any other file is
    read by SimpleITK, and the voxels are a read-only view of its buffer. Every file is first
    checked against its header (:mod:`.file_completeness`). The voxels have shape
    (Z, Y, X, 3), in the file's own numeric type. With ``streamed``, a compressed MetaImage's
    voxels are a :class:`.streamed.StreamedVoxels`, inflated only as they are written (for
    a caller that writes the field once and reads no voxel before).

    Raises
    ------
    FieldFileError
        If the file is missing, unreadable, or not a 3-D 3-component vector image.
    """
    path = Path(path)
    if not path.exists():
        raise FieldFileError(f"field file '{path}' does not exist; expected {_accepted()}")
    if path.is_dir():
        raise FieldFileError(f"field file '{path}' is a directory; expected {_accepted()}")
    require_regular_file(path, "field file")  # a FIFO or /dev/zero would hang the read
    image = None
    try:
        if path.suffix.lower() in (".mha", ".mhd"):
            image = read_metaimage(path, streamed=streamed)
        check_complete(path)  # before any reader: ITK would fill a gap without a word
        if image is None and file_suffix(path) in (".nii", ".nii.gz"):
            image = read_nifti(path, _volumes_note(path))
    except (InputLimitError, IncompleteFileError):
        raise
    except (ValueError, OSError, EOFError) as error:
        raise FieldFileError(f"cannot read '{path}': {error}") from None
    if image is None:
        image = _read_with_simpleitk(path)
    voxels = image.voxels
    assert voxels is not None
    dimension = 3 if voxels.ndim in (3, 4) else voxels.ndim
    components = voxels.shape[3] if voxels.ndim == 4 else 1
    if dimension != 3 or components != 3:
        kind = "scalar" if components == 1 else f"{components}-component"
        raise FieldFileError(f"'{path}' is a {dimension}-D {kind} image; expected {_accepted()}")
    if not np.issubdtype(voxels.dtype, np.number) or np.issubdtype(voxels.dtype,
                                                                    np.complexfloating):
        raise FieldFileError(f"'{path}' holds {voxels.dtype} values; expected real numbers")
    return image


_NIFTI_INTENT_DISPVECT = "1006"
# NRRD patient spaces ITK reads, and the signs that turn their vector components into LPS.
_NRRD_SPACE_SIGNS = {
    "left-posterior-superior": (1, 1, 1), "lps": (1, 1, 1),
    "right-anterior-superior": (-1, -1, 1), "ras": (-1, -1, 1),
    "left-anterior-superior": (1, -1, 1), "las": (1, -1, 1),
}


def _nrrd_space(path: Path) -> tuple[str, tuple[int, int, int] | None]:
    """The ``space`` a NRRD header declares, and its signs to LPS (None: not a patient space).

    Raises
    ------
    FieldFileError
        If the header has a measurement frame other than the identity: its vectors would
        need a rotation that no reader here applies.
    """
    with open(path, "rb") as handle:
        header = handle.read(1 << 16).split(b"\n\n", 1)[0].decode("latin-1")
    fields = {}
    for line in header.splitlines()[1:]:
        if ":" in line and not line.startswith("#"):
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip().lstrip("=").strip()
    frame = fields.get("measurement frame", "")
    if frame and frame.lower() != "none":
        numbers = [float(n) for n in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?",
                                                frame)]
        if numbers != [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]:
            raise FieldFileError(f"'{path}' has a measurement frame {frame}; only the identity "
                                 "is supported (resample the vectors into the space first)")
    space = fields.get("space", "")
    return space, _NRRD_SPACE_SIGNS.get(space.lower())


def _read_with_simpleitk(path: Path) -> Image:
    import SimpleITK as sitk  # here, not at the top: it costs 100 MB that dump and scan skip

    try:
        with native_stderr() as diagnostics:  # ITK's own text would come before our line
            image = sitk.ReadImage(str(path))
    except RuntimeError as error:
        raise FieldFileError(f"cannot read '{path}' as an image "
                             f"({itk_reason(error, diagnostics)}); "
                             f"expected {_accepted()}") from None
    dimension = image.GetDimension()
    components = image.GetNumberOfComponentsPerPixel()
    suffix = file_suffix(path)
    nifti_dispvect = suffix in (".nii", ".nii.gz", ".hdr") and image.HasMetaDataKey(
        "intent_code") and image.GetMetaData("intent_code").strip() == _NIFTI_INTENT_DISPVECT
    if dimension == 4 and components == 1 and image.GetSize()[3] == 3:
        if nifti_dispvect:
            # ITK reads such a file neither as vectors nor as the volumes stored.
            raise FieldFileError(f"'{path}' is a 4-D NIfTI image with the displacement-vector "
                                 "intent (1006), which ITK does not read correctly; expected "
                                 "the vectors in the 5th dimension (x, y, z, 1, 3), as ITK, "
                                 "ANTs and NiftyReg write them")
        return _volumes_as_components(image, path)
    if dimension != 3:
        kind = "scalar" if components == 1 else f"{components}-component"
        raise FieldFileError(f"'{path}' is a {dimension}-D {kind} image; expected {_accepted()}")
    geometry = _checked_geometry(path, image)
    voxels = sitk.GetArrayViewFromImage(image)
    conversion = ""
    if nifti_dispvect:
        # NIfTI's displacement-vector intent says the components are RAS; ITK turns them
        # into LPS while reading (ITK 5.4, SimpleITK 2.4 on): nothing more to do here.
        conversion = DISPLACEMENT_VECTOR_NOTE
    elif suffix in (".nrrd", ".nhdr") and image.GetNumberOfComponentsPerPixel() == 3:
        # ITK turns a NRRD grid in another space into LPS, but leaves the vectors as stored,
        # in the space the header declares.
        space, signs = _nrrd_space(path)
        if signs is not None and signs != (1, 1, 1):
            voxels = voxels * np.asarray(signs, dtype=voxels.dtype)  # one copy, on purpose
            conversion = (f"NRRD space {space}: the vectors' components were turned into LPS "
                          f"(multiplied by {' '.join(map(str, signs))})")
    return Image(voxels=voxels, geometry=geometry, source=str(path), owner=image,
                 lps_conversion=conversion)


def _checked_geometry(path: Path, image: object) -> Geometry | None:
    """The image's geometry as ITK read it, refused when a spacing is not a finite positive
    number or an origin or direction entry is not finite (a header ITK filled in itself):
    nothing is computed from such values."""
    spacing, origin, direction = image.GetSpacing(), image.GetOrigin(), image.GetDirection()
    if not all(np.isfinite(v) and v > 0 for v in spacing) or \
            not all(np.isfinite(v) for v in (*origin, *direction)):
        raise FieldFileError(f"'{path}': its spacing {', '.join(f'{v:g}' for v in spacing)}, "
                             f"origin {', '.join(f'{v:g}' for v in origin)} or direction are "
                             "not finite (spacings positive); expected a header of finite "
                             "numbers")
    return Geometry.from_itk(image.GetSize(), spacing, origin, direction)


def _volumes_as_components(image, path: Path) -> Image:
    """A 4-D scalar image of three volumes (as numpy-based tools often save a field) read as
    the x, y and z components on its first three axes: one copy, to put them last."""
    import SimpleITK as sitk

    geometry = _checked_geometry(path, image)
    if geometry is None:
        raise FieldFileError(f"'{path}' is a 4-D image whose 4th axis is oblique to the "
                             f"others; expected {_accepted()}, or three volumes along an "
                             "unrotated 4th axis")
    voxels = np.ascontiguousarray(np.moveaxis(sitk.GetArrayViewFromImage(image), 0, -1))
    return Image(voxels=voxels, geometry=geometry, source=str(path),
                 reading_note=_volumes_note(path))


def _volumes_note(path: Path) -> str:
    return (f"'{path.name}' is a 4-D image of 3 volumes: they were read as the x, y and z "
            "components, in ITK's convention (LPS millimetre displacements, fixed to moving) "
            "unless their components, units, kind or direction are stated")


def write_displacement_field(image: Image, path: str | os.PathLike[str]) -> None:
    """Write a displacement field image as a SimpleITK vector image file, atomically.

    The voxels keep their numeric type (float32 for a field read from a REG), so that a
    REG read back is written bit-exactly.
    """
    import SimpleITK as sitk  # see read_displacement_field

    if not image.is_vector_field or image.geometry is None:
        raise FieldFileError("only a 3-D vector field with a geometry can be written")
    if file_suffix(path) not in FIELD_SUFFIXES:
        raise FieldFileError(f"output '{path}': a field is written as an image file; name it "
                             f"with one of {' '.join(FIELD_SUFFIXES)}")
    voxels = np.ascontiguousarray(image.voxels)
    if voxels.dtype.byteorder == ">":
        voxels = voxels.astype(voxels.dtype.newbyteorder("<"))
    out = sitk.GetImageFromArray(voxels, isVector=True)
    out.SetSpacing(image.geometry.spacing)
    out.SetOrigin(image.geometry.origin)
    out.SetDirection(image.geometry.direction)
    with atomic_output(path, replaces=IMAGE_FILE) as temp_path:
        try:
            sitk.WriteImage(out, str(temp_path), useCompression=False)
        except RuntimeError as error:  # SimpleITK's message is long; its last line says why
            raise FieldFileError(f"cannot write '{path}': "
                                 f"{itk_reason(error)}") from None
