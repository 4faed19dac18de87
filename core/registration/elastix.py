"""The elastix method (itk-elastix, the ``register`` extra): elastix's own parameter maps,
rigid then B-spline by default, or a user's parameter files, one per stage in order.

Each parameter map runs as its own elastix call, started from the stages before it
(``SetInitialTransformParameterObject``; elastix's default combination, "Compose":
p -> T_n(...T_1(p))), which gives the same transform as one call with all the maps and lets
the progress callback see, and stop, each stage. elastix reports no iterations to Python,
so progress is per stage.

What comes back is the linear matrix A of the leading linear stages (Euler, similarity,
affine, translation) and the whole mapping's pull field W on the fixed grid
(``transformix_deformation_field``: p + W(p) is the moving point, the REG's own convention,
see :mod:`dicomreg.core.deformation.conventions`). The pipeline stores Pre = A and
D(p) = W(p) + p - A p, so that Pre p + D(p) = p + W(p) exactly at the grid's points.

Reruns are bit-identical: a fixed ``RandomSeed`` in every map (unless a user's file gives
one) and a fixed number of threads (elastix splits its sums by thread).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from dicomreg.core.distribution import distribution_name
from dicomreg.core.image import Image
from dicomreg.core.matrices import linear_transform_matrix
from dicomreg.core.registration.settings import (
    Progress,
    ProgressCallback,
    RegistrationCancelledError,
    RegistrationError,
)

__all__ = ["elastix_stages", "not_installed"]



def not_installed() -> str:
    """The line that says itk-elastix is missing, and the pip install that mends it."""
    return ("--method elastix needs itk-elastix, which is not installed: pip install "
            f"'{distribution_name()}[register]' (or pip install itk-elastix)")


# elastix transforms that are a 4x4 matrix; a leading run of them becomes Pre.
_LINEAR = {"EulerTransform", "SimilarityTransform", "AffineTransform", "TranslationTransform",
           "AffineDTITransform", "AffineLogTransform"}


def _itk() -> Any:
    try:
        import itk

        itk.ElastixRegistrationMethod  # noqa: B018 - itk loads its modules lazily
    except (ImportError, AttributeError):
        raise RegistrationError(not_installed()) from None
    return itk


def _to_itk(itk: Any, image: Image, mask: bool = False) -> Any:
    """An Image's voxels as an itk image on its geometry: float32, or for a mask 1 where
    the voxel is not 0 (unsigned char, as elastix takes masks)."""
    assert image.voxels is not None and image.geometry is not None
    voxels = (np.asarray(image.voxels) != 0).astype(np.uint8) if mask else \
        np.ascontiguousarray(image.voxels, dtype=np.float32)
    out = itk.GetImageFromArray(voxels)
    out.SetOrigin(image.geometry.origin)
    out.SetSpacing(image.geometry.spacing)
    out.SetDirection(itk.matrix_from_array(np.asarray(image.geometry.direction_matrix, float)))
    return out


def _default_maps(itk: Any, settings: dict[str, Any]) -> list[Any]:
    """elastix's default rigid and B-spline maps with our settings.

    The B-spline map's bending energy penalty is left out unless ``bending_energy_weight``
    is above 0: on the 48x48x24 test phantom it made the B-spline stage about 10 times
    slower (90 s against 8 s) for no better accuracy.
    """
    parameters = itk.ParameterObject.New()
    levels = int(settings["number_of_resolutions"])
    rigid = parameters.GetDefaultParameterMap("rigid", levels)
    bspline = parameters.GetDefaultParameterMap("bspline", levels,
                                                float(settings["final_grid_spacing_mm"]))
    weight = float(settings["bending_energy_weight"])
    if weight > 0:
        bspline["Metric1Weight"] = [repr(weight)]
    else:
        bspline["Metric"] = ["AdvancedMattesMutualInformation"]
        bspline["Registration"] = ["MultiResolutionRegistration"]
        for key in ("Metric0Weight", "Metric1Weight"):
            bspline.pop(key, None)
    for stage in (rigid, bspline):
        stage["MaximumNumberOfIterations"] = [str(int(settings["maximum_iterations"]))]
        stage["NumberOfSpatialSamples"] = [str(int(settings["spatial_samples"]))]
    return [rigid, bspline]


def _file_maps(itk: Any, paths: list[str]) -> list[Any]:
    maps = []
    for path in paths:
        parameters = itk.ParameterObject.New()
        try:
            parameters.ReadParameterFile(str(path))
        except RuntimeError as error:
            raise RegistrationError(f"--params '{path}' is not an elastix parameter file: "
                                    f"{str(error).strip().splitlines()[-1]}") from None
        stage = parameters.GetParameterMap(0)
        if "Transform" not in stage:
            raise RegistrationError(f"--params '{path}' names no (Transform ...): expected an "
                                    "elastix parameter file, one per stage")
        maps.append(stage)
    return maps


def _stage_name(stage: Any) -> str:
    return str(stage["Transform"][0])


def _failure(log: Path, error: RuntimeError) -> str:
    """elastix's reason, from its log (the exception says only "see elastix log")."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    lines = [line.strip() for line in (text or str(error)).splitlines() if line.strip()]
    reasons = [line for line in lines if line.startswith("Description:")]
    reason = reasons[-1] if reasons else (lines[-1] if lines else "elastix gave no reason")
    return reason.removeprefix("Description:").replace("ITK ERROR: ", "").strip()


def _run_stage(itk: Any, images: tuple[Any, Any], masks: tuple[Any, Any], stage: Any,
               initial: Any, threads: int) -> Any:
    """One elastix call: the stage started from ``initial`` (None for the first); its log
    goes to a temporary folder, read only for the reason of a failure."""
    parameters = itk.ParameterObject.New()
    parameters.AddParameterMap(stage)
    method = itk.ElastixRegistrationMethod.New(*images)
    method.SetParameterObject(parameters)
    method.SetNumberOfThreads(threads)
    if masks[0] is not None:
        method.SetFixedMask(masks[0])
    if masks[1] is not None:
        method.SetMovingMask(masks[1])
    if initial is not None:
        method.SetInitialTransformParameterObject(initial)
    with tempfile.TemporaryDirectory(prefix="dicomreg-elastix-") as folder:
        method.SetLogToConsole(False)
        method.SetOutputDirectory(folder)
        method.SetLogToFile(True)
        method.SetLogFileName("elastix.log")
        try:
            method.Update()
        except RuntimeError as error:
            raise RegistrationError(f"the elastix {_stage_name(stage)} stage failed: "
                                    f"{_failure(Path(folder) / 'elastix.log', error)}") from None
    return method


def elastix_stages(fixed: Image, moving: Image, settings: dict[str, Any],
                   masks: tuple[Image | None, Image | None] | None, seed: int,
                   progress: ProgressCallback | None) -> tuple[np.ndarray, np.ndarray, Any]:
    """Register ``moving`` to ``fixed`` with elastix (see the module documentation).

    Returns
    -------
    matrix, field, transform
        The leading linear stages' 4x4 matrix A (fixed point -> moving point), the whole
        mapping's pull field W (Z, Y, X, 3), float32, on the fixed grid, and the whole
        mapping as the ITK transform elastix made (its ``TransformPoint`` the oracle of W).

    Raises
    ------
    RegistrationError
        When itk-elastix is not installed, a parameter file is not one, or a stage fails;
        :class:`RegistrationCancelledError` when ``progress`` returns False.
    """
    itk = _itk()
    files = list(settings["parameter_files"])
    maps = _file_maps(itk, files) if files else _default_maps(itk, settings)
    for stage in maps:
        stage["WriteResultImage"] = ["false"]  # we resample ourselves; elastix's costs time
        if "RandomSeed" not in stage:
            stage["RandomSeed"] = [str(int(seed))]
    images = (_to_itk(itk, fixed), _to_itk(itk, moving))
    itk_masks = tuple(None if m is None else _to_itk(itk, m, mask=True)
                      for m in (masks or (None, None)))
    matrix, linear, done = np.eye(4), True, None
    for level, stage in enumerate(maps):
        report = Progress(f"elastix {_stage_name(stage)}", level, len(maps), 0, math.nan)
        if progress is not None and progress(report) is False:
            raise RegistrationCancelledError(
                f"the registration was cancelled ({report.describe()})")
        method = _run_stage(itk, images, itk_masks, stage,
                            None if done is None else done.GetTransformParameterObject(),
                            int(settings["number_of_threads"]))
        linear = linear and _stage_name(stage) in _LINEAR
        if linear:
            matrix = linear_transform_matrix(method.GetCombinationTransform())
        done = method
    assert done is not None
    return matrix, _pull_field(itk, images[1], done), done.GetCombinationTransform()


def _pull_field(itk: Any, moving: Any, done: Any) -> np.ndarray:
    """transformix's deformation field W on the fixed grid. Its output directory is a
    temporary folder: itk's ``transformix_deformation_field`` writes deformationField.nii
    into the current directory, a file nobody asked for."""
    transformix = itk.TransformixFilter.New(moving)
    transformix.SetTransformParameterObject(done.GetTransformParameterObject())
    transformix.SetComputeDeformationField(True)
    transformix.SetLogToConsole(False)
    with tempfile.TemporaryDirectory(prefix="dicomreg-transformix-") as folder:
        transformix.SetOutputDirectory(folder)
        transformix.Update()
        field = transformix.GetOutputDeformationField()
        return np.array(itk.GetArrayFromImage(field), dtype=np.float32)
