"""Applying a REG: mapping fixed points to the moving image, and warping a moving image.

PS3.3 C.20.3.1.1 maps each point P(i,j,k) of the grid, a point of the **registered** (fixed)
frame, to ``M_post (M_pre P(i,j,k) + D(i,j,k))``: the vector stored at index (i,j,k) belongs
to the registered point, whatever the pre-deformation matrix is. So a registered point p maps
to the source (moving) frame as

    s = Post @ (Pre @ p + v(p)),

with v interpolated at p itself, **not** at ``Pre @ p`` (which is what an ITK composite of
pre, field and post computes, and differs wherever Pre is not the identity).

v(p) is what ITK's DisplacementFieldTransform gives for the grid: trilinear between voxel
centres, the border vectors held for the half voxel beyond them, and zero further out. A point
beyond the grid therefore maps by the two matrices alone. A vector that is NaN in the grid
means "undefined": it counts as zero in the interpolation, and a point whose nearest grid
vector is undefined maps to nothing (NaN); a warped image shows ``undefined_value`` there.

To warp, the whole mapping is turned into one displacement field on the output grid,
``w(p) = Post @ (Pre @ p + v(p)) - p`` at each output voxel centre, and the moving image is
resampled through a plain DisplacementFieldTransform of w (which, at the voxel centres it is
defined on, is w itself).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dicomreg.core.errors import DicomRegError
from dicomreg.core.image import Geometry
from dicomreg.core.itk import new_image, release_pages, writable_array
from dicomreg.core.reg.reader import DeformableRegistration, RegistrationItem

__all__ = ["Warped", "map_points", "read_moving_image", "registration_transform", "source_points",
           "warp_image"]


def _matrix(matrix: np.ndarray | None) -> np.ndarray:
    return np.eye(4) if matrix is None else np.asarray(matrix, float)


def _grid_of(item: RegistrationItem) -> tuple[np.ndarray, Geometry]:
    if item.grid is None or item.grid.voxels is None or item.grid.geometry is None:
        raise DicomRegError("the registration item holds no grid")
    return np.asarray(item.grid.voxels), item.grid.geometry


def _field_image(vectors: np.ndarray, geometry: Geometry, pixel_type: int):
    """The grid as a SimpleITK vector image, NaN (undefined) vectors as zero."""
    import SimpleITK as sitk

    dtype = np.float64 if pixel_type == sitk.sitkVectorFloat64 else np.float32
    clean = np.nan_to_num(np.asarray(vectors, dtype=dtype), nan=0.0)
    image = sitk.GetImageFromArray(clean, isVector=True)
    image.SetOrigin(geometry.origin)
    image.SetSpacing(geometry.spacing)
    image.SetDirection(geometry.direction)
    return image


def _nearest_undefined(undefined: np.ndarray, grid: Geometry, points: np.ndarray) -> np.ndarray:
    """Whether the grid vector nearest each point (..., 3) is undefined (NaN)."""
    world = grid.world_matrix
    index = np.rint((points - world[:3, 3]) @ np.linalg.inv(world[:3, :3]).T).astype(int)
    inside = np.all((index >= 0) & (index < np.asarray(grid.size)), axis=-1)
    out = np.zeros(points.shape[:-1], bool)
    i, j, k = index[inside].T
    out[inside] = undefined[k, j, i]
    return out


def source_points(item: RegistrationItem, points: np.ndarray) -> np.ndarray:
    """``Post @ (Pre @ p + v(p))`` for registered points (N, 3); NaN where v is undefined.

    v(p) is the grid's displacement at p, as ITK's DisplacementFieldTransform interpolates it
    (see the module documentation).
    """
    import SimpleITK as sitk

    vectors, grid = _grid_of(item)
    points = np.atleast_2d(np.asarray(points, float))
    field = sitk.DisplacementFieldTransform(
        _field_image(vectors, grid, sitk.sitkVectorFloat64))
    v = np.array([field.TransformPoint(tuple(p)) for p in points]) - points
    pre, post = _matrix(item.pre_matrix), _matrix(item.post_matrix)
    moved = points @ pre[:3, :3].T + pre[:3, 3] + v
    mapped = moved @ post[:3, :3].T + post[:3, 3]
    undefined = np.isnan(vectors).any(axis=-1)
    if undefined.any():
        mapped[_nearest_undefined(undefined, grid, points)] = np.nan
    return mapped


def map_points(registration: DeformableRegistration, points: np.ndarray,
               item: int | None = None) -> np.ndarray:
    """Moving positions (N, 3) of fixed points (N, 3); NaN where the field is undefined."""
    chosen = registration.deformable_item if item is None else registration.items[item]
    return source_points(chosen, points)


def _same_grid(a: Geometry, b: Geometry) -> bool:
    """Whether two grids have the same voxel centres (to a tenth of a micrometre)."""
    if tuple(a.size) != tuple(b.size):
        return False
    extent = np.asarray(a.size, float) - 1  # each axis's step, times its steps: the far corner
    return bool(np.allclose(a.world_matrix[:3, :3] * extent, b.world_matrix[:3, :3] * extent,
                            rtol=0, atol=1e-4)
                and np.allclose(a.origin, b.origin, rtol=0, atol=1e-4))


def _vectors_on(vectors: np.ndarray, grid: Geometry, target: Geometry) -> np.ndarray:
    """v at the voxel centres of ``target`` (Z, Y, X, 3): the stored vectors (NaN and all)
    when ``target`` is the grid, else the grid resampled with NaN as zero (linearly, zero
    beyond its half-voxel border: the interpolation of ITK's DisplacementFieldTransform)."""
    import SimpleITK as sitk

    if _same_grid(target, grid):
        return vectors
    image = _field_image(vectors, grid, sitk.sitkVectorFloat32)
    resampled = _resample_onto(image, target, sitk.Transform(), sitk.sitkLinear, 0.0,
                               sitk.sitkVectorFloat32)
    del image
    return sitk.GetArrayFromImage(resampled)


def _slabs(vectors: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
    """Each z slab k of a (Z, Y, X, 3) field: its stored vectors, and where they are
    undefined (None where no vector is: testing a slab's values for NaN all at once is
    about a hundred times as fast as testing each vector, and a field seldom holds one); a
    memory-mapped field's pages are given back after each."""
    for k in range(vectors.shape[0]):
        stored = vectors[k]
        nan = np.isnan(stored)
        yield k, stored, (nan.any(axis=-1) if nan.any() else None)
        release_pages(vectors, stored)


def _full_displacement(item: RegistrationItem, target: Geometry):
    """w(p) = Post @ (Pre @ p + v(p)) - p at the voxel centres of ``target``, as a float64
    SimpleITK vector image, and where the nearest grid vector is undefined (or None).

    Written slab by slab straight into the image's own buffer (:mod:`dicomreg.core.itk.buffer`):
    the field is held once in float64, the stored vectors read one slab at a time (a
    memory-mapped grid is never wholly resident), and the matrices are applied only where
    they are not the identity.
    """
    import SimpleITK as sitk

    vectors, grid = _grid_of(item)
    pre, post = _matrix(item.pre_matrix), _matrix(item.post_matrix)
    on_target = _vectors_on(vectors, grid, target)
    linear = post[:3, :3] @ pre[:3, :3] - np.eye(3)  # w(p) = L p + c + B v(p)
    offset = post[:3, :3] @ pre[:3, 3] + post[:3, 3]
    rotated = not np.array_equal(post[:3, :3], np.eye(3))
    moved = bool(np.any(linear) or np.any(offset))
    image, w = new_image(target, sitk.sitkVectorFloat64, 3)
    undefined = np.zeros(vectors.shape[:3], bool)
    same = on_target is vectors
    for k, stored, slab_undefined in _slabs(vectors):  # one pass over the stored vectors
        if slab_undefined is not None:
            undefined[k] = slab_undefined
        if same:  # cast to float64 on the way in; an undefined vector counts as zero
            w[k] = stored @ post[:3, :3].T if rotated else stored
            if slab_undefined is not None:
                w[k][slab_undefined] = 0.0
    if not same:  # resampled onto the target grid (NaN already zero there)
        for k in range(w.shape[0]):
            w[k] = on_target[k] @ post[:3, :3].T if rotated else on_target[k]
    masked = np.zeros(w.shape[:3], bool) if undefined.any() else None
    if moved or masked is not None:
        for k, points in target.slab_points():
            if moved:
                w[k] += points @ linear.T + offset
            if masked is not None:
                masked[k] = _nearest_undefined(undefined, grid, points)
    return image, masked


def registration_transform(item: RegistrationItem, target: Geometry | None = None):
    """The item as one SimpleITK transform, fixed point -> moving point, for the voxel
    centres of ``target`` (the registration grid when not given).

    A DisplacementFieldTransform of w(p) = Post @ (Pre @ p + v(p)) - p on ``target``: exact at
    its voxel centres, and between them when ``target`` is the registration grid (w is then
    trilinear there, as v is). Beyond the centres ITK holds w for half a voxel, then takes it
    as zero, which is not the REG's mapping: use :func:`source_points` for arbitrary points.
    """
    import SimpleITK as sitk

    _, grid = _grid_of(item)
    return sitk.DisplacementFieldTransform(_full_displacement(item, target or grid)[0])


def read_moving_image(path: str | os.PathLike[str], volume: int | None = None,
                      role: str = "moving image"):
    """A moving image (or the image ``role`` names, for messages) with its voxels, 3-D: an
    image file, or a DICOM series or multi-frame instance (file or directory)."""
    import SimpleITK as sitk

    from dicomreg.core.deformation import check_complete
    from dicomreg.core.dicom import read_slice_header, scan_volumes

    path = Path(path)
    if not path.exists():
        raise DicomRegError(f"{role} '{path}' does not exist")
    if path.is_file() and read_slice_header(path) is None:  # not DICOM: an image file
        check_complete(path)  # a truncated file is named as such, before ITK reads it
        try:
            return _three_dimensional(sitk.ReadImage(str(path)), path)
        except RuntimeError:
            raise DicomRegError(f"cannot read '{path}' as an image or as DICOM") from None
    volumes = scan_volumes(path)
    if not volumes:
        raise DicomRegError(f"'{path}' holds no DICOM image")
    if volume is None and len(volumes) > 1:
        raise DicomRegError(f"'{path}' holds {len(volumes)} volumes; choose one (dicomreg scan)")
    chosen = volumes.select(volume or 0, "volume")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f) for f in chosen.files])
    try:
        return _three_dimensional(reader.Execute(), path)
    except RuntimeError as error:
        raise DicomRegError(f"cannot read the pixel data of '{path}': {error}") from None


def _three_dimensional(image, path: Path):
    """``image`` as a 3-D image: the series reader gives a multi-frame instance a 4th axis of
    one; anything else that is not 3-D is refused."""
    import SimpleITK as sitk

    if image.GetDimension() == 4 and image.GetSize()[3] == 1:
        return sitk.Extract(image, [*image.GetSize()[:3], 0], [0, 0, 0, 0])
    if image.GetDimension() != 3:
        raise DicomRegError(f"'{path}' is a {image.GetDimension()}-D image; expected a 3-D image "
                         "(a DICOM series, a multi-frame instance or an image file)")
    return image


def _resample_onto(image, grid: Geometry, transform, interpolator: int, default: float,
                   pixel_type: int):
    """``image`` resampled onto ``grid`` through ``transform``. The grid is given by its
    numbers, not as an image on it, which SimpleITK would allocate and zero-fill only to read
    its geometry (210 MB for a 512x512x200 float32 grid, three times that for vectors)."""
    import SimpleITK as sitk

    return sitk.Resample(image, [int(n) for n in grid.size], transform, interpolator,
                         [float(v) for v in grid.origin], [float(v) for v in grid.spacing],
                         [float(v) for v in grid.direction], default, pixel_type)


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
               item: int | None = None, undefined_value: float = -1024.0) -> Warped:
    """The moving image resampled onto the fixed grid through the REG (linear interpolation).

    ``reference`` is the output grid; the registration grid when not given. Points whose
    field is undefined, and points that fall outside the moving image, get
    ``undefined_value``.
    """
    import SimpleITK as sitk

    chosen = registration.deformable_item if item is None else registration.items[item]
    _, own = _grid_of(chosen)
    grid = reference or own
    field, undefined = _full_displacement(chosen, grid)
    transform = sitk.DisplacementFieldTransform(field)  # takes the field's buffer, no copy
    del field
    # One resampling gives values and coverage: points outside the moving image get NaN,
    # counted, then set to undefined_value. The moving image is read as it is stored (ITK
    # interpolates in double and casts to float32, as after a cast of the input). Only a
    # moving image that holds NaN itself needs a second resampling for its coverage.
    warped = _resample_onto(moving, grid, transform, sitk.sitkLinear, float("nan"),
                            sitk.sitkFloat32)
    reached = None
    if _holds_nan(moving):
        inside = sitk.Image(moving.GetSize(), sitk.sitkUInt8) + 1
        inside.CopyInformation(moving)
        reached = _resample_onto(inside, grid, transform, sitk.sitkNearestNeighbor, 0,
                                 sitk.sitkUInt8)
    del transform  # the float64 field: gone before the values are touched
    values = sitk.GetArrayViewFromImage(warped)
    outside = np.isnan(values)
    coverage = 1.0 - np.count_nonzero(outside) / outside.size if reached is None else \
        float(sitk.GetArrayViewFromImage(reached).mean())
    if undefined is not None:
        outside |= undefined
    if reached is not None:
        outside |= sitk.GetArrayViewFromImage(reached) == 0
    if outside.any():
        writable_array(warped)[outside] = undefined_value  # the filter's own output, in place
    return Warped(warped, coverage)


def _holds_nan(image) -> bool:
    """Whether a floating-point image has a NaN voxel (an integer image cannot)."""
    import SimpleITK as sitk

    if image.GetPixelID() not in (sitk.sitkFloat32, sitk.sitkFloat64):
        return False
    return bool(np.isnan(sitk.GetArrayViewFromImage(image)).any())
