"""The quality report written after every registration: similarity before and after, the
Jacobian determinant's minimum and folding voxels, the largest displacement.

The Jacobian is that of the whole mapping p -> Pre p + D(p) (det(Pre + dD/dp)), taken by the
deformation package's metrics on w(p) = Pre p + D(p) - p; a determinant of 0 or less somewhere
(folding) is a warning.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dicomreg.core.deformation import folding
from dicomreg.core.image import Geometry
from dicomreg.core.output import atomic_output, json_report

__all__ = ["QualityReport", "quality_report"]


@dataclass
class QualityReport:
    """How good a registration looks, in numbers (see the module documentation)."""

    method: str
    mean_squared_difference_before: float
    mean_squared_difference_after: float
    mutual_information_before: float
    mutual_information_after: float
    jacobian_minimum: float
    jacobian_maximum: float
    folding_voxels: int
    largest_displacement_mm: float
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for a terminal or a node's status."""
        return (f"{self.method}: mutual information {self.mutual_information_before:.3f} -> "
                f"{self.mutual_information_after:.3f}, mean squared difference "
                f"{self.mean_squared_difference_before:.4g} -> "
                f"{self.mean_squared_difference_after:.4g}, Jacobian minimum "
                f"{self.jacobian_minimum:.3f} ({self.folding_voxels} folding voxel(s)), "
                f"largest displacement {self.largest_displacement_mm:.2f} mm")

    def write(self, path: str | os.PathLike[str]) -> None:
        """The report as JSON (atomically)."""
        with atomic_output(path, replaces=QUALITY_REPORT) as temporary:
            temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


# An existing file at the report's path is replaced only when it is such a report.
QUALITY_REPORT = json_report("a registration quality report", "method")


def _mutual_information(a: np.ndarray, b: np.ndarray, bins: int = 32) -> float:
    """Mutual information (nats) of two intensity samples, from their joint histogram."""
    joint, _, _ = np.histogram2d(a, b, bins=bins)
    p = joint / max(joint.sum(), 1.0)
    pa, pb = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nonzero = p > 0
    return float(np.sum(p[nonzero] * np.log(p[nonzero] / (pa @ pb)[nonzero])))


def _similarity(fixed: np.ndarray, warped: np.ndarray, inside: np.ndarray) -> tuple[float, float]:
    a, b = fixed[inside].astype(float), warped[inside].astype(float)
    if not a.size:
        return float("nan"), float("nan")
    return float(np.mean((a - b) ** 2)), _mutual_information(a, b)


def quality_report(method: str, fixed: Any, moving: Any, transform: Any,
                   geometry: Geometry) -> QualityReport:
    """The report of ``transform`` (fixed point -> moving point, SimpleITK) on the fixed
    SimpleITK image ``fixed`` of grid ``geometry``."""
    import SimpleITK as sitk

    fixed_values = sitk.GetArrayViewFromImage(fixed)
    outside = float(np.min(fixed_values)) - 1.0
    figures = []
    for mapping in (sitk.Transform(3, sitk.sitkIdentity), transform):
        warped = sitk.Resample(moving, fixed, mapping, sitk.sitkLinear, outside,
                               sitk.sitkFloat32)
        values = sitk.GetArrayViewFromImage(warped)
        figures.append(_similarity(fixed_values, values, values > outside))
    displacement = sitk.TransformToDisplacementField(
        transform, sitk.sitkVectorFloat64, [int(n) for n in geometry.size], geometry.origin,
        geometry.spacing, geometry.direction)
    vectors = sitk.GetArrayViewFromImage(displacement)
    fold = folding(vectors, geometry)
    report = QualityReport(
        method, figures[0][0], figures[1][0], figures[0][1], figures[1][1], fold.minimum,
        fold.maximum, fold.count, float(np.sqrt((vectors ** 2).sum(axis=-1)).max()))
    if fold.count:
        report.warnings.append(f"warning: the Jacobian determinant is 0 or less at {fold.count} "
                               f"voxel(s) (minimum {fold.minimum:.3f}): the mapping folds there")
    return report
