"""The SimpleITK stages: a linear stage (rigid or affine) and a deformable one (B-spline or
demons displacement field), each an ImageRegistrationMethod run with progress and cancel.

The deformable stage is registered **after** the linear matrix A, as the REG stores it
(PS3.3 C.20.3.1.1: p -> Pre p + D(p), D kept at p): ITK's virtual domain is the fixed grid
carried by A, the fixed image is reached from it through A's inverse (the fixed initial
transform), and the optimised u maps the virtual point q = A p to q + u(q) in the moving
image. The whole mapping is then "A, then u", p -> A p + u(A p), which the deformation
package stores as Pre = A and D(p) = u(A p) (``transform_as_deformation``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from dicomreg.core.image import Geometry
from dicomreg.core.matrices import classify_matrix, linear_transform_matrix
from dicomreg.core.registration.images import grid_image
from dicomreg.core.registration.settings import (
    Progress,
    ProgressCallback,
    RegistrationCancelledError,
    RegistrationError,
    demons_levels,
)

__all__ = ["affine_transform", "bspline_sampling", "deformable_stage", "linear_stage",
           "one_thread", "sampling_per_level", "sitk_threads", "virtual_geometry"]


def affine_transform(matrix: np.ndarray) -> Any:
    """A 4x4 matrix as a SimpleITK AffineTransform."""
    import SimpleITK as sitk

    return sitk.AffineTransform(tuple(float(v) for v in matrix[:3, :3].ravel()),
                                tuple(float(v) for v in matrix[:3, 3]))


@contextmanager
def one_thread() -> Iterator[None]:
    """SimpleITK's default number of threads at 1 while the stages run, restored after.

    The method's own SetNumberOfThreads(1) is not enough: the filters it runs inside (the
    pyramid's, the scales estimator's) take the global default, and their threads' sums in
    whatever order they finish changed the rigid matrix in its 9th digit between runs. With
    one thread reruns are bit-identical, and on the 2 shared cores of the test machine the
    B-spline and demons methods even ran faster (8 s against 11 s, 2.1 s against 3.0 s).
    The default is process-wide: other SimpleITK work meanwhile runs on one thread too.

    A fixed count above one is not enough either (measured 2026-12-01, SimpleITK 2.5.7):
    with two threads, four reruns of the rigid stage gave four different matrices, and three
    of the demons method three different fields; Mattes mutual information adds its
    threads' derivative buffers into one sum as each thread fills its own.
    """
    with sitk_threads(1):
        yield


@contextmanager
def sitk_threads(count: int) -> Iterator[None]:
    """SimpleITK's process-wide default number of threads at ``count`` while the block runs,
    restored after."""
    import SimpleITK as sitk

    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(int(count))
    try:
        yield
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(before)


def sampling_per_level(settings: dict[str, Any], voxels: int, shrink: list[int],
                       linear: bool = True) -> list[float]:
    """The metric's sampling fraction at each level: ``sampling_percentage`` of the level's
    voxels, for a linear stage at most ``linear_maximum_samples`` points (0: no cap).

    A fraction alone makes the finest level the dearest by far (25 % of the 96x96x48 bench
    pair is 110,000 points an iteration, 0.14 s for a rigid one); 20,000 points fix a rigid
    optimum to a few tenths of a millimetre. The deformable stage keeps the fraction.
    """
    fraction = float(settings["sampling_percentage"])
    cap = int(settings["linear_maximum_samples"])
    if not linear or cap <= 0:
        return [fraction] * len(shrink)
    return [min(fraction, cap * float(f) ** 3 / max(voxels, 1)) for f in shrink]


def _method(settings: dict[str, Any], masks: tuple[Any, Any], seed: int, shrink: list[int],
            sigmas: list[float], voxels: int, linear: bool = True) -> Any:
    """An ImageRegistrationMethod with the shared choices: Mattes mutual information on a
    seeded random sample (:func:`sampling_per_level`), linear interpolation, the pyramid and
    the masks."""
    import SimpleITK as sitk

    if len(shrink) != len(sigmas):
        raise RegistrationError(f"{len(shrink)} shrink factors but {len(sigmas)} smoothing "
                                "sigmas; give one of each per level")
    method = sitk.ImageRegistrationMethod()
    # One thread: ITK's threads share the metric's sums in whatever order they finish, which
    # changes the last bits, so reruns would differ; one thread makes them bit-identical.
    method.SetNumberOfThreads(1)
    method.SetMetricAsMattesMutualInformation(int(settings["histogram_bins"]))
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentagePerLevel(
        sampling_per_level(settings, voxels, shrink, linear), int(seed))
    method.SetInterpolator(sitk.sitkLinear)
    method.SetShrinkFactorsPerLevel([int(f) for f in shrink])
    method.SetSmoothingSigmasPerLevel([float(s) for s in sigmas])
    fixed_mask, moving_mask = masks
    if fixed_mask is not None:
        method.SetMetricFixedMask(fixed_mask)
    if moving_mask is not None:
        method.SetMetricMovingMask(moving_mask)
    return method


def _run(method: Any, stage: str, levels: int, fixed: Any, moving: Any,
         progress: ProgressCallback | None) -> None:
    """Execute with an observer that reports each iteration and stops when told."""
    import SimpleITK as sitk

    stopped = []

    def observe() -> None:
        if stopped:  # ITK's StopRegistration ends one level only: stop each later one too
            method.StopRegistration()
            return
        if progress is None:
            return
        report = Progress(stage, int(method.GetCurrentLevel()), levels,
                          int(method.GetOptimizerIteration()), float(method.GetMetricValue()))
        if progress(report) is False and not stopped:
            stopped.append(report)
            method.StopRegistration()

    method.AddCommand(sitk.sitkIterationEvent, observe)
    try:
        method.Execute(fixed, moving)
    except RuntimeError as error:
        raise RegistrationError(f"the {stage} stage failed: "
                                f"{str(error).strip().splitlines()[-1]}") from None
    if stopped:
        raise RegistrationCancelledError(
            f"the registration was cancelled ({stopped[0].describe()})")


def linear_stage(fixed: Any, moving: Any, kind: str, settings: dict[str, Any],
                 masks: tuple[Any, Any], seed: int, progress: ProgressCallback | None,
                 initial: np.ndarray | None = None) -> np.ndarray:
    """A rigid or affine registration of ``moving`` to ``fixed``: its 4x4 matrix (fixed
    point -> moving point), started from the images' centres or from ``initial``."""
    import SimpleITK as sitk

    shrink, sigmas = settings["shrink_factors"], settings["smoothing_sigmas"]
    method = _method(settings, masks, seed, shrink, sigmas, _sampled_voxels(fixed, masks[0]))
    if initial is None:
        transform = sitk.CenteredTransformInitializer(
            fixed, moving, sitk.Euler3DTransform(),
            sitk.CenteredTransformInitializerFilter.GEOMETRY)
    else:
        transform = affine_transform(initial)
        centre = fixed.TransformContinuousIndexToPhysicalPoint(
            [(n - 1) / 2 for n in fixed.GetSize()])
        transform.SetCenter(centre)
        transform.SetTranslation(tuple(np.asarray(initial[:3, :3] @ centre + initial[:3, 3])
                                       - np.asarray(centre)))
        transform.SetMatrix(tuple(initial[:3, :3].ravel()))
    # The step (mm, through the physical-shift scales) starts at 2 and shrinks by
    # linear_relaxation at each reversal, until linear_minimum_step: with 1e-4 and 0.6 the
    # step fell fast and then crept along the valley to the iteration limit at every level
    # (200, 171, 144 iterations on the bench pair, 21 s); 1e-3 and 0.8 stop at about 60 per
    # level (3.6 s), 0.3 mm from the rigid truth where the slow run was 0.18 mm.
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=2.0, minStep=float(settings["linear_minimum_step"]),
        numberOfIterations=int(settings["linear_iterations"]),
        relaxationFactor=float(settings["linear_relaxation"]), gradientMagnitudeTolerance=1e-8)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetInitialTransform(transform, inPlace=True)
    _run(method, kind, len(shrink), fixed, moving, progress)
    return linear_transform_matrix(transform)


def _voxels(image: Any) -> int:
    return int(np.prod(image.GetSize()))


def _sampled_voxels(fixed: Any, mask: Any) -> int:
    """The fixed voxels the metric can sample: those inside the fixed mask, when there is
    one (the fixed voxels whose centre it covers), since ITK draws its sample from the whole grid
    and drops the points outside: a mask of a tenth of the image would keep a tenth of the
    linear stage's capped sample."""
    import SimpleITK as sitk

    voxels = _voxels(fixed)
    if mask is None:
        return voxels
    # on the fixed grid (nearest neighbour): a mask on a wider grid counts only what the
    # fixed image covers
    on_fixed = sitk.Resample(mask, fixed, sitk.Transform(), sitk.sitkNearestNeighbor, 0,
                             sitk.sitkUInt8)
    return max(1, int(np.count_nonzero(sitk.GetArrayViewFromImage(on_fixed))))


def virtual_geometry(fixed: Geometry, matrix: np.ndarray) -> Geometry:
    """The fixed grid carried by ``matrix`` (q = A p): exactly, for a rigid matrix (so that
    the field carried back lies on the fixed grid); else the box of the carried corners, on
    the fixed grid's axes and spacing."""
    linear = matrix[:3, :3]
    if classify_matrix(matrix) == "RIGID" or np.allclose(matrix, np.eye(4)):
        origin = linear @ np.asarray(fixed.origin) + matrix[:3, 3]
        direction = linear @ fixed.direction_matrix
        return Geometry(fixed.size, fixed.spacing, tuple(float(v) for v in origin),
                        tuple(float(v) for v in direction.ravel()))
    low, high = fixed.bounds()
    corners = np.array([[a, b, c] for a in (low[0], high[0]) for b in (low[1], high[1])
                        for c in (low[2], high[2])]) @ linear.T + matrix[:3, 3]
    axes = fixed.direction_matrix
    local = corners @ axes  # in the fixed axes' frame
    start, stop = local.min(axis=0), local.max(axis=0)
    size = tuple(int(np.ceil((b - a) / s)) + 1
                 for a, b, s in zip(start, stop, fixed.spacing, strict=True))
    return Geometry(size, fixed.spacing, tuple(float(v) for v in axes @ start), fixed.direction)


def bspline_sampling(settings: dict[str, Any], voxels: int) -> list[float]:
    """The B-spline stage's sampling fraction at each level: ``bspline_sampling_percentage``
    of the level's voxels, at most ``bspline_maximum_samples`` points (0: no cap).

    Each sample costs the metric every parameter's derivative (about 15 us with the 1344 of
    a 40 mm mesh on the bench pair) at each of L-BFGS-B's evaluations (two to five an
    iteration), so the count sets the stage's time.
    """
    shrink = [int(f) for f in settings["bspline_shrink_factors"]]
    fraction, cap = float(settings["bspline_sampling_percentage"]), int(
        settings["bspline_maximum_samples"])
    if cap <= 0:
        return [fraction] * len(shrink)
    return [min(fraction, cap * f ** 3 / max(voxels, 1)) for f in shrink]


def _bspline(method: Any, virtual: Geometry, settings: dict[str, Any], seed: int) -> Any:
    import SimpleITK as sitk

    method.SetMetricSamplingPercentagePerLevel(
        bspline_sampling(settings, int(np.prod(virtual.size))), int(seed))
    extent = np.asarray(virtual.size, float) * np.asarray(virtual.spacing)
    mesh = [max(1, int(round(e / float(settings["grid_spacing_mm"])))) for e in extent]
    transform = sitk.BSplineTransformInitializer(grid_image(virtual), mesh, order=3)
    method.SetOptimizerAsLBFGSB(gradientConvergenceTolerance=1e-5,
                                numberOfIterations=int(settings["bspline_iterations"]),
                                maximumNumberOfCorrections=5,
                                maximumNumberOfFunctionEvaluations=1000,
                                costFunctionConvergenceFactor=1e7)
    method.SetInitialTransform(transform, inPlace=True)
    return transform


def _demons(method: Any, virtual: Geometry, settings: dict[str, Any]) -> Any:
    """The demons metric in the registration method: the demons method's stage with a mask,
    which the demons filter of demons.py does not take."""
    import SimpleITK as sitk

    zero = grid_image(virtual, sitk.sitkVectorFloat64)
    transform = sitk.DisplacementFieldTransform(zero)
    transform.SetSmoothingGaussianOnUpdate(
        varianceForUpdateField=0.0, varianceForTotalField=float(settings["field_variance_mm2"]))
    method.SetMetricAsDemons(float(settings["intensity_threshold"]))
    method.SetOptimizerAsGradientDescent(
        learningRate=1.0, numberOfIterations=max(n for *_, n in demons_levels(settings)),
        convergenceMinimumValue=1e-6, convergenceWindowSize=10,
        estimateLearningRate=method.EachIteration)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetInitialTransform(transform, inPlace=True)
    return transform


def deformable_stage(fixed: Any, moving: Any, kind: str, pre: np.ndarray,
                     settings: dict[str, Any], masks: tuple[Any, Any], seed: int,
                     progress: ProgressCallback | None) -> Any:
    """The deformable part u registered after ``pre`` (see the module documentation): the
    composite SimpleITK transform "``pre``, then u"."""
    import SimpleITK as sitk

    fixed_geometry = Geometry.from_itk(fixed.GetSize(), fixed.GetSpacing(), fixed.GetOrigin(),
                                       fixed.GetDirection())
    assert fixed_geometry is not None
    virtual = virtual_geometry(fixed_geometry, pre)
    shrink, sigmas = settings[f"{kind}_shrink_factors"], settings[f"{kind}_smoothing_sigmas"]
    method = _method(settings, masks, seed, shrink, sigmas, int(np.prod(virtual.size)),
                     linear=False)
    method.SetVirtualDomain([int(n) for n in virtual.size], virtual.origin, virtual.spacing,
                            virtual.direction)
    method.SetFixedInitialTransform(affine_transform(np.linalg.inv(pre)))
    if kind == "bspline":
        deformable = _bspline(method, virtual, settings, seed)
    else:
        deformable = _demons(method, virtual, settings)
    _run(method, kind, len(shrink), fixed, moving, progress)
    composite = sitk.CompositeTransform(3)
    composite.AddTransform(deformable)
    composite.AddTransform(affine_transform(pre))  # added last: applied first
    return composite
