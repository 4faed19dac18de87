"""A moving image warped onto the fixed grid, from what flows between nodes: the moving
image (headers or voxels), a deformation (a field or a registration's LoadedDeformation, or
a REG file's grid as read back) and, optionally, the fixed image whose grid the output takes.

The warp itself is :func:`dicomreg.core.reg.warp_image`, the standard's equation (PS3.3
C.20.3.1.1); this module only turns the payloads into its arguments and its result into an
:class:`~dicomreg.core.image.Image` the other nodes and views understand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dicomreg.core.deformation import LoadedDeformation
from dicomreg.core.errors import DicomRegError
from dicomreg.core.image import Image
from dicomreg.core.registration.images import to_sitk, with_voxels

__all__ = ["WarpedImage", "registration_of", "warp_moving"]


@dataclass
class WarpedImage:
    """The warped moving image on the output grid, and the fraction of its points that the
    deformation maps inside the moving image (see :class:`dicomreg.core.reg.Warped`)."""

    image: Image
    coverage: float


def registration_of(deformation: LoadedDeformation | Image):
    """A :class:`~dicomreg.core.reg.DeformableRegistration` of one item for a deformation:
    a LoadedDeformation's grid with its pre/post matrices, or a REG file's grid (an Image
    read by :func:`~dicomreg.core.reg.read_deformable_registration`, whose matrices are read
    again from its file)."""
    from pydicom.dataset import Dataset

    from dicomreg.core.reg import (
        DeformableRegistration,
        RegistrationItem,
        read_deformable_registration,
    )

    if isinstance(deformation, LoadedDeformation):
        item = RegistrationItem("", pre_matrix=deformation.pre_matrix,
                                post_matrix=deformation.post_matrix, grid=deformation.image)
        return DeformableRegistration(Dataset(), [item], path=deformation.image.source)
    if isinstance(deformation, Image) and deformation.is_vector_field:
        reg = deformation.datasets[0] if deformation.datasets else None
        if reg is not None and "DeformableRegistrationSequence" in reg and deformation.source:
            return read_deformable_registration(deformation.source)
        item = RegistrationItem("", grid=deformation)  # a bare field: no matrices
        return DeformableRegistration(Dataset(), [item], path=deformation.source)
    raise DicomRegError("deformation: expected a displacement field, a registration's result "
                        "or a REG file's grid")


def warp_moving(deformation: LoadedDeformation | Image, moving: Image,
                fixed: Image | None = None, undefined_value: float = -1024.0) -> WarpedImage:
    """``moving`` resampled through ``deformation`` onto the fixed grid (the fixed image's,
    else the deformation's own), linearly; ``undefined_value`` where the field is undefined
    or leaves the moving image. The result carries the fixed image's DICOM headers."""
    import SimpleITK as sitk

    from dicomreg.core.reg import warp_image

    if fixed is not None and fixed.geometry is None:
        raise DicomRegError("fixed: the image has no geometry")
    registration = registration_of(deformation)
    pixels = with_voxels(moving)
    if pixels.voxels is None or pixels.voxels.ndim != 3:
        raise DicomRegError(f"moving: {moving.source or 'the image'} is not a 3-D scalar image")
    warped = warp_image(registration, to_sitk(pixels), None if fixed is None else
                        fixed.geometry, undefined_value=undefined_value)
    grid = fixed.geometry if fixed is not None else registration.deformable_item.grid.geometry
    voxels = sitk.GetArrayViewFromImage(warped.image)
    image = Image(np.asarray(voxels), grid, datasets=fixed.datasets if fixed else [],
                  source=f"{moving.source or 'moving image'} warped", owner=warped.image)
    return WarpedImage(image, warped.coverage)
