"""Synthetic fixed and moving CT pairs with known deformations, for the registration tests.

The phantom is analytic (ellipsoids of several intensities with sharp edges, in 3-D), so
that the moving image is the phantom evaluated at T^-1(s): the known pull mapping T sends a
fixed point p to its moving position T(p), as a REG does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from conftest import sample_data

SIZE = (64, 64, 32)  # x, y, z
SPACING = (2.0, 2.0, 3.0)
ORIGIN = (-63.0, -63.0, -46.5)
BUMP_CENTRE = np.array([12.0, -8.0, 0.0])
BUMP_AMPLITUDE = np.array([3.0, -2.0, 1.5])  # mm
BUMP_WIDTH = 22.0  # mm


def phantom(points: np.ndarray) -> np.ndarray:
    """Hounsfield units at patient positions (..., 3): a body with organs and a spine."""
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    hu = np.full(points.shape[:-1], -1000.0)

    def inside(cx, cy, cz, rx, ry, rz):
        return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + ((z - cz) / rz) ** 2 <= 1.0

    hu[inside(0, 0, 0, 52, 44, 40)] = 40.0
    hu[inside(-20, -6, 6, 16, 12, 18)] = 120.0
    hu[inside(20, -10, -8, 10, 14, 12)] = -80.0
    hu[inside(0, 26, 0, 8, 8, 36)] = 700.0
    hu[inside(24, 14, 10, 7, 9, 8)] = 300.0
    hu[inside(-8, 4, -18, 9, 7, 8)] = -400.0
    hu[inside(6, -26, 14, 6, 5, 7)] = 400.0
    return hu


def bump(points: np.ndarray) -> np.ndarray:
    """A smooth local displacement (mm): a Gaussian of a few mm near an organ."""
    r2 = np.sum((points - BUMP_CENTRE) ** 2, axis=-1) / BUMP_WIDTH ** 2
    return np.exp(-r2)[..., None] * BUMP_AMPLITUDE


def rotation(degrees: float, shift) -> np.ndarray:
    """A rigid 4x4 matrix: a rotation about z through the origin, then a shift."""
    a = np.radians(degrees)
    matrix = np.eye(4)
    matrix[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    matrix[:3, 3] = shift
    return matrix


@dataclass
class Pair:
    """Fixed and moving series and the known pull mapping T (fixed point -> moving point)."""

    fixed: Path
    moving: Path
    mapping: Callable[[np.ndarray], np.ndarray]
    moving_files: list[Path]


def _invert(mapping: Callable[[np.ndarray], np.ndarray], s: np.ndarray) -> np.ndarray:
    """T^-1(s) by fixed-point iteration (T is a small perturbation of a rigid map)."""
    x = s.copy()
    for _ in range(30):
        x = x - (mapping(x) - s)
    return x


def grid_points(size=SIZE, spacing=SPACING, origin=ORIGIN) -> np.ndarray:
    """Voxel centres (Z, Y, X, 3) of an axis-aligned grid."""
    k, j, i = np.meshgrid(*(np.arange(n) for n in size[::-1]), indexing="ij")
    return np.stack([i, j, k], axis=-1) * np.asarray(spacing) + np.asarray(origin)


def cone_beam(hu: np.ndarray) -> np.ndarray:
    """Hounsfield units as a cone-beam CT shows them: another scale and offset, and noise
    (seeded, so every run writes the same images)."""
    noise = np.random.default_rng(20260105).normal(0.0, 15.0, hu.shape)
    return 0.8 * hu + 60.0 + noise


def make_pair(folder: Path, mapping: Callable[[np.ndarray], np.ndarray], tag: str,
              size=SIZE, spacing=SPACING,
              moving_scale: Callable[[np.ndarray], np.ndarray] | None = None) -> Pair:
    """Write the fixed phantom and the moving one, phantom(T^-1(s)), as CT series; the
    moving intensities through ``moving_scale`` when given (:func:`cone_beam`)."""
    origin = tuple(-(n - 1) * s / 2 for n, s in zip(size, spacing, strict=True))
    points = grid_points(size, spacing, origin)
    moving = phantom(_invert(mapping, points))
    moving = moving if moving_scale is None else moving_scale(moving)
    sample_data.write_series(folder / "fixed", phantom(points), origin=origin, spacing=spacing,
                             study=f"FIXED {tag}", series_number=2, study_date="20260105",
                             description="Fixed CT")
    files = sample_data.write_series(
        folder / "moving", moving, origin=origin, spacing=spacing,
        study=f"MOVING {tag}", series_number=3, study_date="20260212", description="Moving CT",
        frame_of_reference=sample_data.uid(f"moving frame {tag}"))
    return Pair(folder / "fixed", folder / "moving", mapping, files)


def body_points(step: int = 4, size=SIZE, spacing=SPACING) -> np.ndarray:
    """Fixed points inside the body, away from its edge (N, 3)."""
    origin = tuple(-(n - 1) * s / 2 for n, s in zip(size, spacing, strict=True))
    points = grid_points(size, spacing, origin)[::step, ::step, ::step].reshape(-1, 3)
    inner = ((points[:, 0] / 44) ** 2 + (points[:, 1] / 36) ** 2 + (points[:, 2] / 30) ** 2) < 1
    return points[inner]
