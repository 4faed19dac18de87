"""Applying a REG: mapping fixed points to the moving image, and warping a moving image.

A registered (fixed) point p maps to the source (moving) frame as

    s = Post @ (q + v(q)),   q = Pre @ p,

with v interpolated (trilinearly) from the grid. Outside the grid v is zero. A vector that
is NaN in the grid means "undefined": a point whose nearest grid vector is undefined maps to
nothing (NaN), and a warped image shows ``undefined_value`` there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dicomreg.core.errors import DicomRegError
from dicomreg.core.image import Geometry
from dicomreg.core.reg.reader import DeformableRegistration, RegistrationItem

__all__ = ["ApplyError", "Warped", "map_points", "registration_transform", "warp_image"]


class ApplyError(DicomRegError):
    """A REG or an image that cannot be applied; the message says why."""


def _affine(matrix: np.ndarray | None):  # noqa: ANN202
    import SimpleITK as sitk

    transform = sitk.AffineTransform(3)
    m = np.eye(4) if matrix is None else np.asarray(matrix, float)
    transform.SetMatrix(tuple(m[:3, :3].ravel()))
    transform.SetTranslation(tuple(m[:3, 3]))
    return transform


def _field_image(vectors: np.ndarray, geometry: Geometry):  # noqa: ANN202
    import SimpleITK as sitk

    clean = np.nan_to_num(np.asarray(vectors, dtype=np.float64), nan=0.0)
    image = sitk.GetImageFromArray(clean, isVector=True)
    image.SetOrigin(geometry.origin)
    image.SetSpacing(geometry.spacing)
    image.SetDirection(geometry.direction)
    return image


def registration_transform(item: RegistrationItem):  # noqa: ANN201
    """The item as one SimpleITK transform: fixed point -> moving point."""
    import SimpleITK as sitk

    if item.grid is None or item.grid.voxels is None or item.grid.geometry is None:
        raise ApplyError("the registration item holds no grid")
    displacement = sitk.DisplacementFieldTransform(
        _field_image(item.grid.voxels, item.grid.geometry))
    # ITK applies the last added transform first: pre, then the displacement, then post.
    return sitk.CompositeTransform([_affine(item.post_matrix), displacement,
                                    _affine(item.pre_matrix)])


def _undefined_at(item: RegistrationItem, points: np.ndarray) -> np.ndarray:
    """Whether the nearest grid vector of each pre-transformed point is undefined (NaN)."""
    grid = item.grid
    assert grid is not None and grid.voxels is not None and grid.geometry is not None
    undefined = np.isnan(np.asarray(grid.voxels)).any(axis=-1)
    if not undefined.any():
        return np.zeros(len(points), bool)
    pre = np.eye(4) if item.pre_matrix is None else item.pre_matrix
    q = points @ pre[:3, :3].T + pre[:3, 3]
    world = grid.geometry.world_matrix
    index = np.rint(np.linalg.solve(world[:3, :3], (q - world[:3, 3]).T).T).astype(int)
    size = np.asarray(grid.geometry.size)
    inside = np.all((index >= 0) & (index < size), axis=1)
    out = np.zeros(len(points), bool)
    i, j, k = index[inside].T
    out[inside] = undefined[k, j, i]
    return out


def map_points(registration: DeformableRegistration, points: np.ndarray,
               item: int | None = None) -> np.ndarray:
    """Moving positions (N, 3) of fixed points (N, 3); NaN where the field is undefined."""
    chosen = registration.deformable_item if item is None else registration.items[item]
    transform = registration_transform(chosen)
    points = np.atleast_2d(np.asarray(points, float))
    mapped = np.array([transform.TransformPoint(tuple(p)) for p in points])
    mapped[_undefined_at(chosen, points)] = np.nan
    return mapped


def read_moving_image(path: str | os.PathLike[str], volume: int | None = None):  # noqa: ANN201
    """A moving image with its voxels, 3-D: an image file, or a DICOM series or multi-frame
    instance (file or directory)."""
    import SimpleITK as sitk

    from dicomreg.core.deformation import IncompleteFileError, check_complete
    from dicomreg.core.dicom import VolumeError, read_slice_header, scan_volumes

    path = Path(path)
    if not path.exists():
        raise ApplyError(f"moving image '{path}' does not exist")
    if path.is_file() and read_slice_header(path) is None:  # not DICOM: an image file
        try:
            check_complete(path)
            return _three_dimensional(sitk.ReadImage(str(path)), path)
        except IncompleteFileError as error:
            raise ApplyError(str(error)) from None
        except RuntimeError:
            raise ApplyError(f"cannot read '{path}' as an image or as DICOM") from None
    volumes = scan_volumes(path)
    if not volumes:
        raise ApplyError(f"'{path}' holds no DICOM image")
    if volume is None and len(volumes) > 1:
        raise ApplyError(f"'{path}' holds {len(volumes)} volumes; choose one (dicomreg scan)")
    try:
        chosen = volumes.select(volume or 0, "volume")
    except VolumeError as error:
        raise ApplyError(str(error)) from None
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f) for f in chosen.files])
    try:
        return _three_dimensional(reader.Execute(), path)
    except RuntimeError as error:
        raise ApplyError(f"cannot read the pixel data of '{path}': {error}") from None


def _three_dimensional(image, path: Path):  # noqa: ANN001, ANN202
    """``image`` as a 3-D image: the series reader gives a multi-frame instance a 4th axis of
    one; anything else that is not 3-D is refused."""
    import SimpleITK as sitk

    if image.GetDimension() == 4 and image.GetSize()[3] == 1:
        return sitk.Extract(image, [*image.GetSize()[:3], 0], [0, 0, 0, 0])
    if image.GetDimension() != 3:
        raise ApplyError(f"'{path}' is a {image.GetDimension()}-D image; expected a 3-D image "
                         "(a DICOM series, a multi-frame instance or an image file)")
    return image


def _grid_image(grid: Geometry, pixel_type: int):  # noqa: ANN202
    """An empty SimpleITK image on ``grid``: the output grid of a resampling."""
    import SimpleITK as sitk

    image = sitk.Image([int(n) for n in grid.size], pixel_type)
    image.SetOrigin(grid.origin)
    image.SetSpacing(grid.spacing)
    image.SetDirection(grid.direction)
    return image


@dataclass
class Warped:
    """A moving image resampled through a REG, and how much of it the grid reached.

    ``coverage`` is the fraction of output points that the REG maps inside the moving image:
    a registration checked against the wrong moving image (another series, another patient
    position) maps most points outside it, and the picture is then just the background
    value, which this number makes visible.
    """

    image: Any  # a SimpleITK image
    coverage: float


def warp_image(registration: DeformableRegistration, moving, reference: Geometry | None = None,
               item: int | None = None, undefined_value: float = -1024.0) -> Warped:  # noqa: ANN001
    """The moving image resampled onto the fixed grid through the REG (linear interpolation).

    ``reference`` is the output grid; the registration grid when not given. Points whose
    field is undefined, and points that fall outside the moving image, get
    ``undefined_value``.
    """
    import SimpleITK as sitk

    chosen = registration.deformable_item if item is None else registration.items[item]
    transform = registration_transform(chosen)  # built once: it holds a copy of the grid
    grid = reference or chosen.grid.geometry  # type: ignore[union-attr]
    moving = sitk.Cast(moving, sitk.sitkFloat32)
    warped = sitk.Resample(moving, _grid_image(grid, sitk.sitkFloat32), transform,
                           sitk.sitkLinear, undefined_value, sitk.sitkFloat32)
    inside = sitk.Image(moving.GetSize(), sitk.sitkUInt8) + 1
    inside.CopyInformation(moving)
    reached = sitk.Resample(inside, _grid_image(grid, sitk.sitkUInt8), transform,
                            sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    x, y, z = grid.size
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    points = grid.index_to_point(np.stack([i, j, k], axis=-1).reshape(-1, 3))
    undefined = _undefined_at(chosen, points).reshape(z, y, x)
    if undefined.any():
        values = sitk.GetArrayFromImage(warped)
        values[undefined] = undefined_value
        fixed = sitk.GetImageFromArray(values)
        fixed.CopyInformation(warped)
        warped = fixed
    return Warped(warped, float(sitk.GetArrayViewFromImage(reached).mean()))
