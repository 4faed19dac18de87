"""elastix parameter maps as plain data, without ITK: our default rigid and B-spline maps,
a user's parameter files read and checked, and a map written as elastix's text.

A map is a dict of key -> list of values, each value a Python string (quoted on writing) or
a number (written as it is), the way elastix's parameter files hold them. The defaults are
itk-elastix's ``GetDefaultParameterMap("rigid" | "bspline", levels, spacing)`` (elastix's
own defaults: adaptive stochastic gradient descent on Mattes mutual information,
RandomCoordinate samples, smoothing pyramids, the B-spline grid halved by sqrt(2) a level)
with our settings, so that the executables and the wrapping run the same maps. elastix's
faster step-size estimation ("DisplacementDistribution") was measured and left out: on the
tests' 48x48x24 phantom it took the mean error from 0.83 to 0.96 to 1.07 mm (the bound is 1),
and more iterations made it worse.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from dicomreg.core.registration.settings import RegistrationError

__all__ = ["ParameterMap", "default_maps", "map_text", "parse_parameters", "read_parameter_file",
           "stage_name"]

#: key -> values (str for elastix's quoted values, int/float for its numbers)
ParameterMap = dict[str, list[Any]]

_COMMON: ParameterMap = {
    "AutomaticParameterEstimation": ["true"], "CheckNumberOfSamples": ["true"],
    "DefaultPixelValue": [0], "FinalBSplineInterpolationOrder": [3],
    # elastix erodes masks at each resolution by default; a moving mask of the body alone
    # then failed ("Too many samples map outside moving image buffer"). Not eroded, the
    # mask is where the metric looks, as in the SimpleITK methods.
    "ErodeMask": ["false"],
    "FixedImagePyramid": ["FixedSmoothingImagePyramid"], "ImageSampler": ["RandomCoordinate"],
    "Interpolator": ["LinearInterpolator"], "MaximumNumberOfSamplingAttempts": [8],
    "Metric": ["AdvancedMattesMutualInformation"],
    "MovingImagePyramid": ["MovingSmoothingImagePyramid"],
    "NewSamplesEveryIteration": ["true"], "NumberOfSamplesForExactGradient": [4096],
    "Optimizer": ["AdaptiveStochasticGradientDescent"],
    "Registration": ["MultiResolutionRegistration"],
    "ResampleInterpolator": ["FinalBSplineInterpolator"], "Resampler": ["DefaultResampler"],
    "ResultImageFormat": ["mha"], "WriteIterationInfo": ["false"],
    "WriteResultImage": ["false"],  # we resample ourselves; elastix's costs time
}


def _per_level(value: Any, levels: int) -> list[Any]:
    """One value for every level, or the list given (a setting may differ per level)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * levels
    if len(values) != levels:
        raise RegistrationError(f"elastix settings: {values!r} gives {len(values)} values; "
                                f"expected one, or one per resolution ({levels})")
    return [int(v) for v in values]


def default_maps(settings: dict[str, Any]) -> list[ParameterMap]:
    """The rigid and the B-spline map with our settings (see :mod:`.settings`).

    The B-spline map's bending energy penalty is left out unless ``bending_energy_weight``
    is above 0: on the 48x48x24 test phantom it made the B-spline stage about 10 times
    slower (90 s against 8 s) for no better accuracy.
    """
    levels = int(settings["number_of_resolutions"])
    rigid: ParameterMap = {**_COMMON, "Transform": ["EulerTransform"],
                           "AutomaticScalesEstimation": ["true"]}
    bspline: ParameterMap = {
        **_COMMON, "Transform": ["BSplineTransform"],
        "FinalGridSpacingInPhysicalUnits": [float(settings["final_grid_spacing_mm"])],
        "GridSpacingSchedule": [float(f"{math.sqrt(2) ** r:.12g}")
                                for r in reversed(range(levels))]}
    weight = float(settings["bending_energy_weight"])
    if weight > 0:
        bspline.update(Registration=["MultiMetricMultiResolutionRegistration"],
                       Metric=["AdvancedMattesMutualInformation",
                               "TransformBendingEnergyPenalty"],
                       Metric0Weight=[1.0], Metric1Weight=[weight])
    for stage, prefix in ((rigid, "rigid_"), (bspline, "")):
        stage["NumberOfResolutions"] = [levels]
        stage["MaximumNumberOfIterations"] = _per_level(
            settings[f"{prefix}maximum_iterations"], levels)
        stage["NumberOfSpatialSamples"] = _per_level(settings[f"{prefix}spatial_samples"],
                                                     levels)
    return [rigid, bspline]


def stage_name(stage: ParameterMap) -> str:
    """The map's transform, e.g. ``EulerTransform``."""
    return str(stage["Transform"][0])


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value) if isinstance(value, float) else str(value)


def map_text(stage: ParameterMap) -> str:
    """The map as an elastix parameter file."""
    return "".join(f"({key} {' '.join(_value_text(v) for v in values)})\n"
                   for key, values in stage.items())


_ENTRY = re.compile(r'^\(\s*(\w+)((?:\s+(?:"[^"]*"|[^\s()"]+))*)\s*\)$')
_VALUE = re.compile(r'"([^"]*)"|(\S+)')


def _number(token: str) -> Any:
    if "_" in token:  # Python reads 1_0 as 10; elastix does not: a word, as elastix sees it
        return token
    try:
        return int(token)
    except ValueError:
        try:
            return float(token)
        except ValueError:
            return token  # an unquoted word: elastix takes it as a string too


def read_parameter_file(path: str | Path) -> ParameterMap:
    """A user's elastix parameter file as a map (comments ``//`` dropped).

    Raises
    ------
    RegistrationError
        One line naming the file and what is wrong: a line that is not ``(Key values)``, a
        file that is not text, or no ``(Transform ...)``.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RegistrationError(f"--params '{path}' is not an elastix parameter file "
                                f"({error})") from None
    stage = parse_parameters(text, f"--params '{path}'")
    if "Transform" not in stage or not stage["Transform"]:
        raise RegistrationError(f"--params '{path}' names no (Transform ...): expected an "
                                "elastix parameter file, one per stage")
    _check_counts(stage, path)
    return stage


# Counts of a parameter file, with the lowest each may be: elastix reads them unsigned, so
# (MaximumNumberOfIterations -5) ran 4 billion iterations; the progress counts the levels.
_COUNTS = {"NumberOfResolutions": 1, "MaximumNumberOfIterations": 0,
           "NumberOfSpatialSamples": 1, "NumberOfHistogramBins": 1,
           "MaximumNumberOfSamplingAttempts": 0, "NumberOfSamplesForExactGradient": 1}


def _check_counts(stage: ParameterMap, path: str | Path) -> None:
    for key, lowest in _COUNTS.items():
        values = stage.get(key, [lowest])
        whole = all(isinstance(v, int) and lowest <= v <= 2 ** 31 - 1 for v in values)
        if not values or not whole or (key == "NumberOfResolutions" and len(values) != 1):
            many = "one whole number" if key == "NumberOfResolutions" else "whole numbers"
            raise RegistrationError(f"--params '{path}': ({key} "
                                    f"{' '.join(map(str, values))}) is not {many} of at least "
                                    f"{lowest}")


def parse_parameters(text: str, what: str) -> ParameterMap:
    """An elastix parameter file's text as a map; ``what`` names it in the error."""
    stage: ParameterMap = {}
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("//", 1)[0].strip()
        if not entry:
            continue
        found = _ENTRY.match(entry)
        if found is None:
            raise RegistrationError(
                f"{what} is not an elastix parameter file: line {number} is not "
                f"(Key value ...): {entry[:60]!r}")
        stage[found.group(1)] = [_number(word) if word else quoted
                                 for quoted, word in _VALUE.findall(found.group(2))]
    return stage
