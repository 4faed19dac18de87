"""The elastix method through itk-elastix (the ``register`` extra), the fallback when the
``elastix`` and ``transformix`` executables are not on PATH (see :mod:`.elastix_exe`).

Each parameter map runs as its own elastix call, started from the stages before it
(``SetInitialTransformParameterObject``; elastix's default combination, "Compose":
p -> T_n(...T_1(p))), which gives the same transform as one call with all the maps and lets
the progress callback see, and stop, each stage. The wrapping reports no iterations to
Python, so progress is per stage. The transform returned is elastix's own ITK transform.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from dicomreg.core.distribution import distribution_name
from dicomreg.core.image import Image
from dicomreg.core.itk import itk_reason
from dicomreg.core.matrices import linear_transform_matrix
from dicomreg.core.registration.elastix_maps import ParameterMap, stage_name
from dicomreg.core.registration.elastix_result import leads_linear
from dicomreg.core.registration.settings import (
    Progress,
    ProgressCallback,
    RegistrationCancelledError,
    RegistrationError,
)

__all__ = ["itk_stages", "not_installed"]


def not_installed() -> str:
    """The line that says neither elastix's executables nor itk-elastix are there, and
    the installs that mend it."""
    return ("--method elastix needs the elastix and transformix executables on PATH "
            "(Debian: apt-get install elastix) or itk-elastix, neither of which is "
            f"installed: pip install '{distribution_name()}[register]' (or pip install "
            "itk-elastix)")




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


def _itk_map(itk: Any, stage: ParameterMap) -> Any:
    """Our map as itk-elastix's (every value a string, as elastix's parser holds it)."""
    parameters = itk.ParameterObject.New()
    out = parameters.GetDefaultParameterMap("rigid")
    for key in list(out.keys()):
        out.pop(key)
    for key, values in stage.items():
        out[key] = [repr(v) if isinstance(v, float) else str(v) for v in values]
    return out


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
            raise RegistrationError(f"the elastix {stage_name(stage)} stage failed: "
                                    f"{_failure(Path(folder) / 'elastix.log', error)}") from None
    return method


def itk_stages(fixed: Image, moving: Image, maps: list[ParameterMap],
               masks: tuple[Image | None, Image | None], threads: int,
               progress: ProgressCallback | None) -> tuple[np.ndarray, np.ndarray, Any]:
    """Register with itk-elastix; returns as
    :func:`~dicomreg.core.registration.elastix.elastix_stages` (its transform elastix's
    own ITK transform)."""
    itk = _itk()
    images = (_to_itk(itk, fixed), _to_itk(itk, moving))
    itk_masks = tuple(None if m is None else _to_itk(itk, m, mask=True) for m in masks)
    matrix, linear, done = np.eye(4), True, None
    for level, stage in enumerate(maps):
        report = Progress(f"elastix {stage_name(stage)}", level, len(maps), 0, math.nan)
        if progress is not None and progress(report) is False:
            raise RegistrationCancelledError(
                f"the registration was cancelled ({report.describe()})")
        method = _run_stage(itk, images, itk_masks, _itk_map(itk, stage),
                            None if done is None else done.GetTransformParameterObject(),
                            threads)
        linear = linear and leads_linear(stage, level)
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
        try:
            transformix.Update()
        except RuntimeError as error:
            raise RegistrationError(f"transformix failed: {itk_reason(error)}") from None
        field = transformix.GetOutputDeformationField()
        return np.array(itk.GetArrayFromImage(field), dtype=np.float32)
