"""The fixed and moving images with their voxels, as the registration needs them."""

from __future__ import annotations

import os

import numpy as np

from dicomreg.core.image import Geometry, Image

__all__ = ["grid_image", "load_image", "to_sitk", "with_voxels"]


def load_image(path: str | os.PathLike[str], volume: int | None = None,
               what: str = "volume", role: str = "image") -> Image:
    """One volume of a DICOM series (or an image file) with its voxels, geometry and, for
    DICOM, its headers: what :func:`~dicomreg.core.dicom.read_volume` gives, with the pixel
    data read as :func:`~dicomreg.core.reg.read_moving_image` reads a moving image; ``role``
    names the image in messages ("fixed image")."""
    import SimpleITK as sitk

    from dicomreg.core.dicom import read_slice_header, read_volume
    from dicomreg.core.reg import read_moving_image

    pixels = read_moving_image(path, volume, role)
    geometry = Geometry.from_itk(pixels.GetSize(), pixels.GetSpacing(), pixels.GetOrigin(),
                                 pixels.GetDirection())
    voxels = sitk.GetArrayViewFromImage(pixels)
    is_dicom = os.path.isdir(path) or read_slice_header(path) is not None
    headers = read_volume(path, volume, what).datasets if is_dicom else []
    return Image(voxels, geometry, datasets=headers, source=str(path), owner=pixels)


def grid_image(geometry: Geometry, pixel_type: int | None = None):
    """An empty SimpleITK image on ``geometry`` (float32 unless told)."""
    import SimpleITK as sitk

    image = sitk.Image([int(n) for n in geometry.size],
                       sitk.sitkFloat32 if pixel_type is None else pixel_type)
    image.SetOrigin(geometry.origin)
    image.SetSpacing(geometry.spacing)
    image.SetDirection(geometry.direction)
    return image


def to_sitk(image: Image, pixel_type: int | None = None):
    """The image's voxels as a SimpleITK image (float32 unless told) on its geometry."""
    import SimpleITK as sitk

    if image.voxels is None or image.geometry is None:
        raise ValueError(f"{image.source or 'the image'} has no voxels or no geometry; read "
                         "it with load_image")
    out = sitk.GetImageFromArray(np.ascontiguousarray(image.voxels, dtype=np.float32))
    out.SetOrigin(image.geometry.origin)
    out.SetSpacing(image.geometry.spacing)
    out.SetDirection(image.geometry.direction)
    return out if pixel_type is None else sitk.Cast(out, pixel_type)


def with_voxels(image: Image) -> Image:
    """``image`` with its voxels: as it is when it has them, else a DICOM volume's headers
    (:meth:`~dicomreg.core.dicom.Volume.image`) with the pixel data of their files read."""
    import SimpleITK as sitk

    from dicomreg.core.dicom import dataset_files
    from dicomreg.core.registration.settings import RegistrationError

    if image.voxels is not None:
        return image
    files = dataset_files(image.datasets)
    if not files:
        raise RegistrationError(f"{image.source or 'the image'} has neither voxels nor files "
                                "to read them from")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    try:
        pixels = reader.Execute()
    except RuntimeError as error:
        raise RegistrationError(f"cannot read the pixel data of {image.source}: "
                                f"{str(error).strip().splitlines()[-1]}") from None
    if pixels.GetDimension() == 4:
        pixels = sitk.Extract(pixels, [*pixels.GetSize()[:3], 0], [0, 0, 0, 0])
    geometry = Geometry.from_itk(pixels.GetSize(), pixels.GetSpacing(), pixels.GetOrigin(),
                                 pixels.GetDirection())
    return Image(sitk.GetArrayViewFromImage(pixels), geometry, datasets=image.datasets,
                 source=image.source, owner=pixels)
