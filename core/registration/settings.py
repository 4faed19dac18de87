"""The registration methods, their default settings, progress and errors.

The defaults are multi-resolution and tuned for CT to CT and CT to cone-beam CT of the same
patient: Mattes mutual information (robust to the cone-beam's other intensity scale), a
rigid stage first, three levels (shrink 4, 2, 1). A settings file (JSON) overrides any of
them by name, and a fixed seed drives the random metric sampling, so that a rerun gives the
same result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dicomreg.core.errors import DicomRegError

__all__ = ["METHODS", "Progress", "ProgressCallback", "RegistrationCancelledError",
           "RegistrationError", "load_settings", "settings_for"]

#: each method, what it does
METHODS = {
    "rigid": "rigid (rotation and translation): a pre-deformation matrix and a zero grid",
    "affine": "rigid, then affine: a pre-deformation matrix and a zero grid",
    "bspline": "rigid, then a B-spline free-form deformation (SimpleITK)",
    "demons": "rigid, then a smoothed displacement field driven by the demons metric "
              "(SimpleITK)",
    "elastix": "elastix (itk-elastix, the [register] extra): rigid, then B-spline",
}

_COMMON = {
    "shrink_factors": [4, 2, 1],
    "smoothing_sigmas": [2.0, 1.0, 0.0],  # voxels, per level
    "histogram_bins": 32,
    "sampling_percentage": 0.25,
    "linear_maximum_samples": 20000,  # per level (see stages.sampling_per_level)
    "linear_iterations": 200,
    "linear_minimum_step": 0.001,  # mm, through the physical-shift scales
    "linear_relaxation": 0.8,
}
# The B-spline stage keeps the slow, closer rigid start: from the fast one its L-BFGS-B
# stopped after 11 iterations a level on the 64x64x32 phantom and the 95th percentile error
# grew from 1.84 to 2.11 mm, over the known-answer bound of 2 (DICOMREG_REGISTER=long); with
# the fast one's 1e-3 and 0.8 but a 1e-4 step, 1.98. Its sample is capped at 40,000 points
# a level (as is the B-spline stage's, stages.bspline_sampling): above the 33,000 of that
# phantom, so its answer stays, where the bench's 96x96x48 pair drew 110,000 at full size.
_SLOW_LINEAR = {"linear_maximum_samples": 40000, "linear_minimum_step": 1e-4,
                "linear_relaxation": 0.6}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "rigid": {**_COMMON},
    "affine": {**_COMMON},
    "bspline": {**_COMMON, **_SLOW_LINEAR, "grid_spacing_mm": 40.0,
                "bspline_shrink_factors": [2, 1], "bspline_smoothing_sigmas": [1.0, 0.0],
                "bspline_iterations": 15, "bspline_sampling_percentage": 0.25,
                "bspline_maximum_samples": 40000},
    "demons": {**_COMMON, "demons_shrink_factors": [4, 2, 1],
               "demons_smoothing_sigmas": [2.0, 1.0, 0.0], "demons_iterations": 40,
               "field_variance_mm2": 4.0, "intensity_threshold": 0.001},
    # elastix's default rigid and B-spline maps; one thread and a fixed seed (see elastix.py).
    "elastix": {"number_of_resolutions": 3, "final_grid_spacing_mm": 40.0,
                "maximum_iterations": 250, "spatial_samples": 2048,
                "bending_energy_weight": 0.0, "number_of_threads": 1, "parameter_files": []},
}


class RegistrationError(DicomRegError):
    """A registration that cannot run or failed; the message says why."""


class RegistrationCancelledError(RegistrationError):
    """The progress callback asked to stop."""


@dataclass(frozen=True)
class Progress:
    """Where a registration is: its stage, multi-resolution level, iteration and metric."""

    stage: str
    level: int
    levels: int
    iteration: int
    metric: float

    def describe(self) -> str:
        """One line for a terminal or a node's status."""
        return (f"{self.stage}: level {self.level + 1}/{self.levels}, iteration "
                f"{self.iteration}, metric {self.metric:.6g}")


#: called with each Progress; returning False stops the registration
ProgressCallback = Callable[[Progress], "bool | None"]


def settings_for(method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The method's defaults, with ``params`` overriding them; an unknown name refused."""
    if method not in METHODS:
        raise RegistrationError(f"method {method!r} is not known; the methods are "
                                f"{', '.join(METHODS)}")
    chosen = dict(_DEFAULTS[method])
    unknown = sorted(set(params or {}) - set(chosen) - {"seed"})
    if unknown:
        raise RegistrationError(f"{method} settings: {', '.join(map(repr, unknown))} is not a "
                                f"setting; the settings are {', '.join(sorted(chosen))}")
    chosen.update(params or {})
    return chosen


def load_settings(paths: list[str | os.PathLike[str]], method: str) -> dict[str, Any]:
    """Settings from files: JSON objects of settings by name (later files win); for
    ``elastix``, any other file is an elastix parameter file (one per stage, in order)."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise RegistrationError(f"--params '{path}' does not exist")
    merged: dict[str, Any] = {}
    stages = [str(p) for p in files if method == "elastix" and p.suffix.lower() != ".json"]
    if stages:
        merged["parameter_files"] = stages
    for path in files:
        if str(path) not in stages:
            merged.update(_json_settings(path))
    return merged


def _json_settings(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise RegistrationError(f"--params '{path}' is not JSON ({error}); expected an "
                                "object of settings by name") from None
    if not isinstance(data, dict):
        raise RegistrationError(f"--params '{path}' holds a {type(data).__name__}; "
                                "expected an object of settings by name")
    return data
