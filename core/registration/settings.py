"""The registration methods, their default settings, progress and errors.

The defaults are multi-resolution and tuned for CT to CT and CT to cone-beam CT of the same
patient: Mattes mutual information (robust to the cone-beam's other intensity scale), a
rigid stage first, three levels (shrink 4, 2, 1). A settings file (JSON) overrides any of
them by name, and a fixed seed drives the random metric sampling, so that a rerun gives the
same result.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dicomreg.core.errors import DicomRegError

__all__ = ["METHODS", "Progress", "ProgressCallback", "RegistrationCancelledError",
           "RegistrationError", "check_settings", "demons_levels", "load_settings",
           "settings_for"]

#: each method, what it does
METHODS = {
    "rigid": "rigid (rotation and translation): a pre-deformation matrix and a zero grid",
    "affine": "rigid, then affine: a pre-deformation matrix and a zero grid",
    "bspline": "rigid, then a B-spline free-form deformation (SimpleITK)",
    "demons": "rigid, then a smoothed displacement field: SimpleITK's fast symmetric forces "
              "demons over a pyramid",
    "elastix": "elastix (its executables on PATH, else itk-elastix, the [register] extra): "
               "rigid, then B-spline",
}

_COMMON = {
    "shrink_factors": [4, 2, 1],
    "smoothing_sigmas": [2.0, 1.0, 0.0],  # mm (SimpleITK's physical units), per level
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
# The B-spline mesh is 30 mm: with 40 mm the CT to cone-beam CT known answer
# (test_cone_beam.py, 48x48x24) gave a 95th percentile of 2.06 to 2.22 mm, over its bound of
# 2 (30 mm: 1.57); on the bench's 96x96x48 pair it costs 1.5 x the CPU at the same accuracy.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "rigid": {**_COMMON},
    "affine": {**_COMMON},
    "bspline": {**_COMMON, **_SLOW_LINEAR, "grid_spacing_mm": 30.0,
                "bspline_shrink_factors": [2, 1], "bspline_smoothing_sigmas": [1.0, 0.0],
                "bspline_iterations": 15, "bspline_sampling_percentage": 0.25,
                "bspline_maximum_samples": 40000},
    # The demons filter (demons.py) takes up what a coarse rigid start leaves: its rigid
    # stage stops at shrink 2 on 5,000 samples a level (0.8 s CPU on the 96x96x48 bench
    # pair, 3.6 s with the common three levels of 20,000), and the known answers hold. The
    # finest level runs no iterations (the field of shrink 2, interpolated): 5 there changed
    # no error by more than 0.01 mm on the bench and test pairs and cost 0.3 s of 2.5 s.
    "demons": {**_COMMON, "shrink_factors": [4, 2], "smoothing_sigmas": [2.0, 1.0],
               "linear_maximum_samples": 5000, "demons_shrink_factors": [4, 2, 1],
               "demons_smoothing_sigmas": [4.0, 2.0, 0.0], "demons_iterations": [40, 20, 0],
               "demons_smoothing_voxels": 2.0, "demons_match_histograms": False,
               "intensity_threshold": 0.001, "field_variance_mm2": 4.0},
    # elastix's rigid and B-spline maps; two threads and a fixed seed (see elastix.py).
    # Iterations and samples: one number for every resolution, or a list, one per level.
    # Two resolutions, 60 rigid and 100 B-spline iterations a level (elastix's defaults: 3
    # and 250): 3.5 x less CPU on the bench's synthetic pair at the same accuracy (see
    # docs/performance.md); 1024 samples or 50 B-spline iterations cost accuracy there.
    "elastix": {"number_of_resolutions": 2, "final_grid_spacing_mm": 40.0,
                "rigid_maximum_iterations": 60, "rigid_spatial_samples": 2048,
                "maximum_iterations": 100, "spatial_samples": 2048,
                "bending_energy_weight": 0.0, "number_of_threads": 2, "parameter_files": []},
}


# With a mask the demons method runs the demons metric in the registration method (the
# filter takes no mask; stages._demons), smoothing the field by field_variance_mm2. That
# stage does not take up a coarse rigid start: on the 48x48x24 test pair with a body mask the
# error was 1.16 mm mean from the demons defaults' rigid start and 0.49 from the common one.
_MASKED = {"demons": {key: _COMMON[key] for key in (
    "shrink_factors", "smoothing_sigmas", "linear_maximum_samples")}}


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


def settings_for(method: str, params: Mapping[str, Any] | None = None,
                 masked: bool = False) -> dict[str, Any]:
    """The method's defaults (with a mask, ``masked``, those of its masked stage), with
    ``params`` overriding them; an unknown name refused."""
    if method not in METHODS:
        raise RegistrationError(f"method {method!r} is not known; the methods are "
                                f"{', '.join(METHODS)}")
    chosen = {**_DEFAULTS[method], **(_MASKED.get(method, {}) if masked else {})}
    unknown = sorted(set(params or {}) - set(chosen) - {"seed"})
    if unknown:
        raise RegistrationError(f"{method} settings: {', '.join(map(repr, unknown))} is not a "
                                f"setting; the settings are {', '.join(sorted(chosen))}")
    chosen.update(params or {})
    check_settings(chosen)
    return chosen


# What each setting takes: a number between bounds, whole or not (a kind of _Number), a
# list of such numbers, one per level ("levels"), a number or such a list ("each or levels"),
# true or false, or a list of file names. A wrong one would fail deep in ITK or elastix with
# a traceback or their own message, or not at all (a relaxation of 1 never shrinks the step,
# a thread count of 0 would make reruns differ).
@dataclass(frozen=True)
class _Number:
    low: float
    high: float | None = None
    low_allowed: bool = True
    whole: bool = False
    accepted: str = ""

    def takes(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value):
            return False
        if self.whole and not float(value).is_integer():
            return False
        high = _LARGEST if self.high is None and self.whole else self.high
        return (value > self.low or (self.low_allowed and value == self.low)) and (
            high is None or value <= high)


_LARGEST = 2 ** 31 - 1  # ITK's counts are 32-bit
_FRACTION = _Number(0.0, 1.0, False, accepted="a fraction above 0 and at most 1")
_CAP = _Number(0, whole=True, accepted="a whole number of points, 0 for no cap")
_ITERATIONS = _Number(1, whole=True, accepted="a whole number of iterations, at least 1")
_MM = _Number(0.0, low_allowed=False, accepted="a length in mm above 0")
_SHRINK = _Number(1, 64, whole=True, accepted="whole shrink factors from 1 to 64")
_SIGMA = _Number(0.0, accepted="smoothing sigmas in mm of at least 0")
_SPECS: dict[str, tuple[str, _Number | None]] = {
    "sampling_percentage": ("number", _FRACTION),
    "histogram_bins": ("number", _Number(5, 1024, whole=True,
                                         accepted="a whole number of bins from 5 to 1024")),
    "linear_maximum_samples": ("number", _CAP),
    "linear_iterations": ("number", _ITERATIONS),
    "linear_minimum_step": ("number", _Number(0.0, low_allowed=False,
                                              accepted="a step in mm above 0")),
    "linear_relaxation": ("number", _Number(0.0, 0.999999, False,
                                            accepted="a factor above 0 and below 1")),
    "shrink_factors": ("levels", _SHRINK), "smoothing_sigmas": ("levels", _SIGMA),
    "bspline_shrink_factors": ("levels", _SHRINK), "bspline_smoothing_sigmas": ("levels", _SIGMA),
    "bspline_sampling_percentage": ("number", _FRACTION),
    "bspline_maximum_samples": ("number", _CAP), "bspline_iterations": ("number", _ITERATIONS),
    "grid_spacing_mm": ("number", _MM),
    "demons_shrink_factors": ("levels", _SHRINK), "demons_smoothing_sigmas": ("levels", _SIGMA),
    "demons_iterations": ("each or levels", _Number(
        0, 100000, whole=True, accepted="whole numbers of iterations from 0 to 100000")),
    "demons_smoothing_voxels": ("number", _Number(
        0.0, low_allowed=False, accepted="a standard deviation in voxels above 0")),
    "field_variance_mm2": ("number", _Number(0.0, low_allowed=False,
                                             accepted="a variance in mm2 above 0")),
    "intensity_threshold": ("number", _Number(0.0,
                                              accepted="an intensity difference of at least 0")),
    "demons_match_histograms": ("switch", None),
    "number_of_resolutions": ("number", _Number(1, 16, whole=True,
                                                accepted="a whole number from 1 to 16")),
    "final_grid_spacing_mm": ("number", _MM),
    "rigid_maximum_iterations": ("each or levels", _ITERATIONS),
    "maximum_iterations": ("each or levels", _ITERATIONS),
    "rigid_spatial_samples": ("each or levels", _Number(
        1, whole=True, accepted="whole numbers of samples, at least 1")),
    "spatial_samples": ("each or levels", _Number(
        1, whole=True, accepted="whole numbers of samples, at least 1")),
    "bending_energy_weight": ("number", _Number(0.0, accepted="a weight of at least 0")),
    "number_of_threads": ("number", _Number(1, 256, whole=True,
                                            accepted="a whole number of threads from 1 to 256")),
    "parameter_files": ("files", None),
    "seed": ("number", _Number(0, 2 ** 32 - 1, whole=True,
                               accepted="a whole number from 0 to 4294967295")),
}
# Lists that must give one value per level of the same pyramid.
_SAME_LEVELS = [("shrink_factors", "smoothing_sigmas"),
                ("bspline_shrink_factors", "bspline_smoothing_sigmas")]
_PER_RESOLUTION = ("rigid_maximum_iterations", "maximum_iterations", "rigid_spatial_samples",
                   "spatial_samples")


def _problem(kind: str, spec: _Number | None, value: Any) -> str | None:
    """What ``value`` should be, when it is not what ``kind`` takes; else None."""
    if kind == "switch":
        return None if isinstance(value, bool) else "true or false"
    if kind == "files":
        return None if isinstance(value, list) and all(isinstance(v, str) for v in value) \
            else "a list of elastix parameter file names"
    assert spec is not None
    if kind == "number":
        return None if spec.takes(value) else spec.accepted
    each = kind == "each or levels" and spec.takes(value)
    levels = isinstance(value, list) and value and all(spec.takes(v) for v in value)
    return None if each or levels else (
        f"a non-empty list of {spec.accepted}, one per level"
        + (", or one such number for every level" if kind == "each or levels" else ""))


def check_settings(settings: Mapping[str, Any]) -> None:
    """Refuse, in one line naming the setting and what it takes, a setting of the wrong
    kind or range, or lists of one pyramid with different numbers of levels.

    Raises
    ------
    RegistrationError
        For the first problem found.
    """
    for name, value in settings.items():
        kind, spec = _SPECS.get(name, ("", None))
        problem = _problem(kind, spec, value) if kind else None
        if problem is not None:
            raise RegistrationError(f"setting {name!r} is {value!r}; expected {problem}")
    for first, second in _SAME_LEVELS:
        if first in settings and len(settings[first]) != len(settings[second]):
            raise RegistrationError(f"{len(settings[first])} {first} but "
                                    f"{len(settings[second])} {second}: give one of each "
                                    "for each level")
    if "demons_iterations" in settings:
        demons_levels(settings)
    levels = settings.get("number_of_resolutions")
    for name in _PER_RESOLUTION:
        value = settings.get(name)
        if isinstance(value, list) and len(value) != levels:
            raise RegistrationError(f"setting {name!r} gives {len(value)} values; expected "
                                    f"one, or one per resolution ({levels})")


def demons_levels(settings: dict[str, Any]) -> list[tuple[int, float, int]]:
    """The pyramid's (shrink factor, smoothing sigma in mm, iterations) per level, coarse to
    fine; one count for every level when ``demons_iterations`` is one number."""
    shrink, sigmas = settings["demons_shrink_factors"], settings["demons_smoothing_sigmas"]
    iterations = settings["demons_iterations"]
    try:
        counts = [int(iterations)] * len(shrink) if isinstance(iterations, int | float) \
            else [int(n) for n in iterations]
        levels = [(int(f), float(s), n) for f, s, n in zip(shrink, sigmas, counts, strict=True)]
    except (TypeError, ValueError, OverflowError):
        levels = []
    if not levels or min(min(f, n + 1, s + 1) for f, s, n in levels) < 1:
        raise RegistrationError(
            f"demons_shrink_factors {shrink!r}, demons_smoothing_sigmas {sigmas!r} and "
            f"demons_iterations {iterations!r}: give for each level a shrink factor of at "
            "least 1, a smoothing sigma of at least 0 (mm) and an iteration count of at least 0")
    return levels


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
