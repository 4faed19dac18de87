"""The elastix method: elastix's rigid and B-spline maps with our settings, or a user's
parameter files, one per stage in order; run by Debian's ``elastix`` and ``transformix``
executables when both are on PATH (:mod:`.elastix_exe`), else by itk-elastix's Python
wrapping (:mod:`.elastix_itk`, the ``register`` extra), the same maps either way.

What comes back is the linear matrix A of the leading linear stages (Euler, similarity,
affine, translation) and the whole mapping's pull field W on the fixed grid (transformix's
deformation field: p + W(p) is the moving point, the REG's own convention, see
:mod:`dicomreg.core.deformation.conventions`). The pipeline stores Pre = A and
D(p) = W(p) + p - A p, so that Pre p + D(p) = p + W(p) exactly at the grid's points.

Reruns are bit-identical: a fixed ``RandomSeed`` in every map (unless a user's file gives
one) and a fixed number of threads (``number_of_threads``, 2: elastix splits its sums by
thread, so another count gives another, equally good, result). elastix 5.0.1's executables
on two threads gave the same TransformParameters, digit for digit, in four reruns of the
default maps with one seed (and again in four of elastix's own 3 x 250-iteration maps).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dicomreg.core.image import Image
from dicomreg.core.registration.elastix_exe import executables, run_executables
from dicomreg.core.registration.elastix_itk import itk_stages, not_installed
from dicomreg.core.registration.elastix_maps import (
    ParameterMap,
    default_maps,
    read_parameter_file,
)
from dicomreg.core.registration.settings import ProgressCallback

__all__ = ["elastix_maps", "elastix_stages", "not_installed"]


def elastix_maps(settings: dict[str, Any], seed: int) -> list[ParameterMap]:
    """The maps a run uses: the user's files or our defaults, each with a seed and without
    elastix's own resampled image (we resample ourselves; its costs time)."""
    files = list(settings["parameter_files"])
    maps = [read_parameter_file(p) for p in files] if files else default_maps(settings)
    for stage in maps:
        stage["WriteResultImage"] = ["false"]
        stage.setdefault("RandomSeed", [int(seed)])
    return maps


def elastix_stages(fixed: Image, moving: Image, settings: dict[str, Any],
                   masks: tuple[Image | None, Image | None] | None, seed: int,
                   progress: ProgressCallback | None) -> tuple[np.ndarray, np.ndarray, Any]:
    """Register ``moving`` to ``fixed`` with elastix (see the module documentation).

    Returns
    -------
    matrix, field, transform
        The leading linear stages' 4x4 matrix A (fixed point -> moving point), the whole
        mapping's pull field W (Z, Y, X, 3), float32, on the fixed grid, and the whole
        mapping as elastix maps points (``TransformPoint``; the executables' is
        transformix's, the wrapping's elastix's ITK transform): the oracle of W.

    Raises
    ------
    RegistrationError
        When neither the executables nor itk-elastix are installed, a parameter file is not
        one, or a stage fails (one line with elastix's own reason);
        :class:`RegistrationCancelledError` when ``progress`` returns False.
    """
    maps = elastix_maps(settings, seed)
    chosen = masks or (None, None)
    threads = int(settings["number_of_threads"])
    tools = executables()
    if tools is not None:
        return run_executables(tools, fixed, moving, maps, chosen, threads, progress)
    return itk_stages(fixed, moving, maps, chosen, threads, progress)
