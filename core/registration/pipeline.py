"""``register``: a fixed and a moving image into a REG's matrices and grid, with a report.

The linear stage (rigid, or rigid then affine) becomes the pre-deformation matrix A; the
deformable stage u, registered after A (see :mod:`.stages`), becomes the grid through the
deformation package's :func:`~dicomreg.core.deformation.transform_as_deformation`, which
stores "A, then u" as Pre = A and D(p) = u(A p) on the fixed grid, the standard's
p -> Pre p + D(p). With ``fold_affine`` A is folded into the grid instead
(D(p) = A p + u(A p) - p, Pre the identity). A rigid or affine method gives a zero grid.

elastix (:mod:`.elastix`) gives A and the whole mapping's pull field W on the fixed grid
instead of a transform: Pre = A and D(p) = W(p) + p - A p (folded: D = W), and the whole
mapping, for the quality report, is W as a displacement field transform (exact at the grid's
points); the result's ``transform`` is elastix's own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dicomreg.core.deformation import LoadedDeformation, transform_as_deformation
from dicomreg.core.image import Geometry, Image
from dicomreg.core.registration.demons import demons_stage
from dicomreg.core.registration.elastix import elastix_stages
from dicomreg.core.registration.images import to_sitk
from dicomreg.core.registration.quality import QualityReport, quality_report
from dicomreg.core.registration.settings import (
    ProgressCallback,
    RegistrationError,
    check_settings,
    settings_for,
)
from dicomreg.core.registration.stages import (
    affine_transform,
    deformable_stage,
    linear_stage,
    one_thread,
)

__all__ = ["RegistrationResult", "register"]

DEFAULT_SEED = 20260105
_FEWEST = 4  # voxels along each axis of either image


@dataclass
class RegistrationResult:
    """What a registration gives.

    Attributes
    ----------
    deformation
        The grid on the fixed grid in the REG's convention (pull-back, LPS mm) and the
        pre-deformation matrix, as a file's deformation is loaded: ready for DicomREGSave.
    affine
        The linear stage's 4x4 matrix (fixed point -> moving point).
    quality
        The quality report.
    transform
        The whole mapping as one SimpleITK transform (fixed point -> moving point); for
        elastix, the ITK transform elastix made (``TransformPoint`` alike).
    """

    deformation: LoadedDeformation
    affine: np.ndarray
    quality: QualityReport
    transform: Any


def _masks(masks: tuple[Image | None, Image | None] | None) -> tuple[Any, Any]:
    import SimpleITK as sitk

    if masks is None:
        return None, None
    # "non-zero inside", as elastix takes it: a cast to UInt8 made 0.5 outside and 256 0
    return tuple(None if m is None or m.voxels is None else to_sitk(
        Image((np.asarray(m.voxels) != 0).astype(np.uint8), m.geometry), sitk.sitkUInt8)
        for m in masks)


def _zero_field(geometry: Geometry, source: str) -> Image:
    x, y, z = (int(n) for n in geometry.size)
    return Image(np.zeros((z, y, x, 3), np.float32), geometry, source=source)


def _full_field(transform: Any, geometry: Geometry, source: str) -> Image:
    """The whole mapping's displacement at the grid's points (A folded in)."""
    import SimpleITK as sitk

    field = sitk.TransformToDisplacementField(
        transform, sitk.sitkVectorFloat64, [int(n) for n in geometry.size], geometry.origin,
        geometry.spacing, geometry.direction)
    return Image(sitk.GetArrayFromImage(field).astype(np.float32), geometry, source=source)


def _sitk_stages(method: str, fixed: Any, moving: Any, settings: dict[str, Any],
                 masks: tuple[Any, Any], seed: int, progress: ProgressCallback | None
                 ) -> tuple[np.ndarray, Any]:
    """The linear matrix and the whole transform of a SimpleITK method."""
    import SimpleITK as sitk

    matrix = linear_stage(fixed, moving, "rigid", settings, masks, seed, progress)
    if method == "affine":
        matrix = linear_stage(fixed, moving, "affine", settings, masks, seed, progress,
                              initial=matrix)
    if method in ("rigid", "affine"):
        whole = sitk.CompositeTransform(3)
        whole.AddTransform(affine_transform(matrix))
        return matrix, whole
    if method == "demons" and all(m is None for m in masks):  # the filter takes no mask
        return matrix, demons_stage(fixed, moving, matrix, settings, progress)
    return matrix, deformable_stage(fixed, moving, method, matrix, settings, masks, seed,
                                    progress)


def register(fixed: Image, moving: Image, method: str = "bspline",
             params: Mapping[str, Any] | None = None,
             masks: tuple[Image | None, Image | None] | None = None, seed: int = DEFAULT_SEED,
             progress: ProgressCallback | None = None,
             fold_affine: bool = False) -> RegistrationResult:
    """Register ``moving`` to ``fixed`` (see the module documentation).

    Parameters
    ----------
    fixed, moving
        Images with voxels and geometry (:func:`~dicomreg.core.registration.load_image`).
        The result's grid carries the fixed image's DICOM headers.
    method
        One of :data:`~dicomreg.core.registration.METHODS`.
    params
        Settings overriding the method's defaults (see ``settings.py``).
    masks
        The fixed and the moving mask (non-zero inside), either may be None.
    seed
        The seed of the random metric sampling: the same seed gives the same result.
    progress
        Called with each :class:`~dicomreg.core.registration.Progress`; False stops.
    fold_affine
        Fold the linear stage into the grid (identity pre-deformation matrix).

    Raises
    ------
    RegistrationError
        For an unknown method or setting, a failed stage, or a cancel
        (:class:`~dicomreg.core.registration.RegistrationCancelledError`).
    """
    settings = settings_for(method, params, masked=masks is not None and any(
        m is not None for m in masks))
    seed = settings.pop("seed", seed)
    check_settings({"seed": seed})  # the argument too (SimpleITK takes 32 bits)
    seed = int(seed)
    if fixed.geometry is None or moving.geometry is None:
        raise RegistrationError("the fixed and the moving image both need a geometry")
    for role, image in (("fixed", fixed), ("moving", moving)):
        if min(image.geometry.size) < _FEWEST:  # ITK's smoothing needs 4 along each axis
            raise RegistrationError(
                f"the {role} image is {'x'.join(map(str, image.geometry.size))} voxels; "
                f"registration needs at least {_FEWEST} along each axis (a volume, not a "
                "slice or a few)")
    started = time.perf_counter()
    fixed_itk, moving_itk = to_sitk(fixed), to_sitk(moving)
    source = f"{method} registration of {moving.source or 'the moving image'}"
    if method == "elastix":
        matrix, full, transform = elastix_stages(fixed, moving, settings, masks, seed,
                                                 progress)
        whole = _field_transform(full, fixed.geometry)
        deformation = _elastix_deformation(full, matrix, fixed.geometry, source, fold_affine)
    else:
        with one_thread():
            matrix, whole = _sitk_stages(method, fixed_itk, moving_itk, settings,
                                         _masks(masks), seed, progress)
        deformation = _as_deformation(method, whole, matrix, fixed.geometry, source,
                                      fold_affine)
        transform = whole
    deformation.image.datasets = fixed.datasets
    quality = quality_report(method, fixed_itk, moving_itk, whole, fixed.geometry)
    quality.seconds = time.perf_counter() - started
    deformation.notes += quality.warnings
    return RegistrationResult(deformation, matrix, quality, transform)


def _as_deformation(method: str, whole: Any, matrix: np.ndarray, grid: Geometry, source: str,
                    fold_affine: bool) -> LoadedDeformation:
    """The REG's grid and matrices of the whole transform (see the module documentation)."""
    if fold_affine:
        return LoadedDeformation(_full_field(whole, grid, source), notes=[_FOLDED],
                                 has_matrices=True)
    if method in ("rigid", "affine"):
        return LoadedDeformation(_zero_field(grid, source), pre_matrix=matrix, notes=[
            f"the {method} stage is the pre-deformation matrix; the grid is zero"],
            has_matrices=True)
    return transform_as_deformation(whole, grid, source)


def _field_transform(full: np.ndarray, geometry: Geometry) -> Any:
    """The pull field W as a SimpleITK displacement field transform (its own copy)."""
    import SimpleITK as sitk

    # float32 into SimpleITK, cast there: one float64 image, not a numpy copy beside it
    image = sitk.Cast(sitk.GetImageFromArray(np.asarray(full, np.float32), isVector=True),
                      sitk.sitkVectorFloat64)
    image.SetOrigin(geometry.origin)
    image.SetSpacing(geometry.spacing)
    image.SetDirection(geometry.direction)
    return sitk.DisplacementFieldTransform(image)


_FOLDED = "the linear stage is folded into the grid (identity pre-deformation matrix)"


def _elastix_deformation(full: np.ndarray, matrix: np.ndarray, grid: Geometry, source: str,
                         fold_affine: bool) -> LoadedDeformation:
    """Pre = A, D(p) = W(p) + p - A p; folded, D = W (see the module documentation)."""
    if fold_affine or np.array_equal(matrix, np.eye(4)):
        folded = _FOLDED if fold_affine else "no linear stage leads elastix's maps (or it " \
            "found the identity): the whole mapping is the grid, Pre the identity"
        return LoadedDeformation(Image(full, grid, source=source), notes=[folded],
                                 has_matrices=True)
    # slab by slab in float64 into float32: a whole float64 copy of W was 1.9 GB at
    # 512x512x300 (an independent review's estimate of the result's peak: 5 to 7 GB)
    vectors = np.empty(full.shape, np.float32)
    for k, points in grid.slab_points():
        vectors[k] = full[k] + (points - (points @ matrix[:3, :3].T + matrix[:3, 3]))
    return LoadedDeformation(Image(vectors, grid, source=source),
                             pre_matrix=matrix, notes=[
                                 "elastix's linear stages are the pre-deformation matrix"],
                             has_matrices=True)
