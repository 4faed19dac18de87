"""The demons method's deformable stage: SimpleITK's fast symmetric forces demons filter
over a pyramid, registered after the rigid matrix.

The stage runs on the virtual domain of :mod:`.stages` (the fixed grid carried by the rigid
matrix A, q = A p, exact for a rigid A): the fixed image keeps its voxels there, the moving
image is resampled onto it once, and the filter finds u with F(q) ~ M(q + u(q)). The whole
mapping is "A, then u", as for the other methods. The demons forces follow intensity
differences, so the two images need one intensity scale: ``demons_match_histograms`` maps the
moving intensities onto the fixed image's histogram first (ITK's histogram matching), for
another scanner's scale such as cone-beam CT's. It is off by default: on the tests'
piecewise-constant phantom, CT to CT, the matching moved the plateaus and the error grew
(mean 0.78 to 1.04 mm, 95th percentile 1.79 to 2.38 mm on the 48x48x24 pair).

Every step is a voxel-wise filter (the demons update, Gaussian smoothing, resampling, the
histogram matching's integer counts), so the result is the same bit for bit for any number
of threads: the stage runs on every core the process may use, where the Mattes mutual
information of the other stages needs one thread for bit-identical reruns. The filter takes
no masks: with a mask the pipeline runs the demons metric of :mod:`.stages` instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dicomreg.core.cores import usable_cores
from dicomreg.core.image import Geometry
from dicomreg.core.itk import itk_reason
from dicomreg.core.registration.settings import (
    Progress,
    ProgressCallback,
    RegistrationCancelledError,
    RegistrationError,
    demons_levels,
)
from dicomreg.core.registration.stages import affine_transform, sitk_threads, virtual_geometry

__all__ = ["demons_stage"]


def _threads() -> int:
    return usable_cores()


def _on_virtual_domain(fixed: Any, moving: Any, pre: np.ndarray,
                       match_histograms: bool) -> tuple[Any, Any]:
    """The fixed voxels on the grid carried by ``pre``, and the moving image resampled onto
    it, its histogram matched to the fixed image's when asked."""
    import SimpleITK as sitk

    # the demons method's pre is its rigid stage's, whose carried grid keeps the fixed
    # voxels as they are (stages.virtual_geometry, the other deformable stages' domain too)
    carried = virtual_geometry(Geometry.from_itk(fixed.GetSize(), fixed.GetSpacing(),
                                                 fixed.GetOrigin(), fixed.GetDirection()), pre)
    virtual = sitk.Image(fixed)
    virtual.SetOrigin(carried.origin)
    virtual.SetDirection(carried.direction)
    outside = float(np.min(sitk.GetArrayViewFromImage(moving)))
    resampled = sitk.Resample(moving, virtual, sitk.Transform(), sitk.sitkLinear, outside,
                              sitk.sitkFloat32)
    if not match_histograms:
        return virtual, resampled
    return virtual, sitk.HistogramMatching(resampled, virtual, 256, 7, True)


def _level(image: Any, shrink: int, sigma: float) -> Any:
    """The image smoothed by ``sigma`` (mm) and shrunk by ``shrink``."""
    import SimpleITK as sitk

    smoothed = sitk.SmoothingRecursiveGaussian(image, sigma) if sigma > 0 else image
    return sitk.Shrink(smoothed, [shrink] * 3) if shrink > 1 else smoothed


def _filter(settings: dict[str, Any], iterations: int, stage: str, level: int, levels: int,
            progress: ProgressCallback | None, stopped: list[Progress]) -> Any:
    import SimpleITK as sitk

    demons = sitk.FastSymmetricForcesDemonsRegistrationFilter()
    demons.SetNumberOfIterations(iterations)
    # A fixed count: its stop on the RMS change (a sum over threads in the order they end)
    # could fall an iteration apart between reruns.
    demons.SetMaximumRMSError(0.0)
    demons.SetSmoothDisplacementField(True)
    demons.SetStandardDeviations(float(settings["demons_smoothing_voxels"]))
    demons.SetIntensityDifferenceThreshold(float(settings["intensity_threshold"]))
    demons.SetNumberOfThreads(_threads())

    def observe() -> None:
        if progress is None or stopped:
            return
        report = Progress(stage, level, levels, int(demons.GetElapsedIterations()),
                          float(demons.GetMetric()))
        if progress(report) is False:
            stopped.append(report)
            demons.Abort()

    demons.AddCommand(sitk.sitkIterationEvent, observe)
    return demons


def _pyramid(virtual: Any, matched: Any, settings: dict[str, Any],
             progress: ProgressCallback | None, stopped: list[Progress]) -> Any:
    """The field u over the levels, coarse to fine, on the virtual grid; None when stopped."""
    import SimpleITK as sitk

    levels = demons_levels(settings)
    field = None
    for index, (shrink, sigma, iterations) in enumerate(levels):
        level_fixed = _level(virtual, shrink, sigma)
        level_moving = _level(matched, shrink, sigma)
        if field is None:
            start = sitk.Image(level_fixed.GetSize(), sitk.sitkVectorFloat64)
            start.CopyInformation(level_fixed)
        else:  # the coarser level's field, interpolated onto this level's grid
            start = sitk.Resample(field, level_fixed, sitk.Transform(), sitk.sitkLinear, 0.0,
                                  sitk.sitkVectorFloat64)
        demons = _filter(settings, iterations, "demons", index, len(levels), progress, stopped)
        field = demons.Execute(level_fixed, level_moving, start) if iterations else start
        if stopped:
            return None
    if field is not None and field.GetSize() != virtual.GetSize():  # the finest was shrunk
        field = sitk.Resample(field, virtual, sitk.Transform(), sitk.sitkLinear, 0.0,
                              sitk.sitkVectorFloat64)
    return field


def demons_stage(fixed: Any, moving: Any, pre: np.ndarray, settings: dict[str, Any],
                 progress: ProgressCallback | None) -> Any:
    """The deformable part u registered after the rigid ``pre`` (see the module
    documentation): the composite SimpleITK transform "``pre``, then u"."""
    import SimpleITK as sitk

    stopped: list[Progress] = []
    with sitk_threads(_threads()):
        try:
            virtual, matched = _on_virtual_domain(fixed, moving, pre,
                                                  bool(settings["demons_match_histograms"]))
            field = _pyramid(virtual, matched, settings, progress, stopped)
        except RuntimeError as error:  # any of its filters; a cancel's abort among them
            if not stopped:
                raise RegistrationError(f"the demons stage failed: {itk_reason(error)}") \
                    from None
    if stopped:
        raise RegistrationCancelledError(
            f"the registration was cancelled ({stopped[0].describe()})")
    composite = sitk.CompositeTransform(3)
    composite.AddTransform(sitk.DisplacementFieldTransform(field))
    composite.AddTransform(affine_transform(pre))  # added last: applied first
    return composite
