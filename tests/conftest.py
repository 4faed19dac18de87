"""Shared fixtures: synthetic fixed and moving CT series and fields of any geometry.

The CT writer is the sample data script's own (``example_flows/data/make_sample_data.py``),
so the tests and the shipped data are made the same way.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from dicomreg.core.dciodvfy import run_dciodvfy

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "example_flows" / "data"

_spec = importlib.util.spec_from_file_location("make_sample_data",
                                               SAMPLE / "make_sample_data.py")
sample_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sample_data)


@dataclass
class Case:
    """Paths of one synthetic registration case."""

    field: Path
    fixed: Path
    moving: Path
    vectors: np.ndarray  # (Z, Y, X, 3) as written to the field file


def write_field(path: Path, vectors: np.ndarray, *, origin, spacing, direction) -> Path:
    """A displacement field file as ITK writes one."""
    image = sitk.GetImageFromArray(vectors, isVector=True)
    image.SetOrigin(tuple(float(v) for v in origin))
    image.SetSpacing(tuple(float(v) for v in spacing))
    image.SetDirection(tuple(float(v) for v in np.asarray(direction).ravel()))
    sitk.WriteImage(image, str(path))
    return path


def make_case(tmp_path: Path, *, size=(8, 6, 4), spacing=(2.0, 2.0, 3.0),
              orientation=(1, 0, 0, 0, 1, 0), origin=(-10.0, -8.0, -6.0),
              same_study: bool = False, dtype=np.float32, seed: int = 0,
              body_part: str | None = "ABDOMEN", laterality: str | None = None) -> Case:
    """Fixed and moving CT series of the same patient, and a field on the fixed grid."""
    rng = np.random.default_rng(seed)
    x, y, z = size
    fixed_hu = rng.integers(-1000, 1000, size=(z, y, x)).astype(float)
    moving_hu = rng.integers(-1000, 1000, size=(z, y, x)).astype(float)
    tag = f"{tmp_path.name}-{seed}"
    sample_data.write_series(tmp_path / "fixed", fixed_hu, origin=origin, spacing=spacing,
                             orientation=orientation, study=f"FIXED {tag}", series_number=2,
                             study_date="20260105", description="Fixed CT",
                             body_part=body_part, laterality=laterality)
    moving_study = f"FIXED {tag}" if same_study else f"MOVING {tag}"
    sample_data.write_series(tmp_path / "moving", moving_hu, origin=origin, spacing=spacing,
                             orientation=orientation, study=moving_study, series_number=3,
                             study_date="20260212", description="Moving CT",
                             frame_of_reference=sample_data.uid(f"moving frame {tag}"),
                             body_part=body_part, laterality=laterality)
    vectors = (rng.standard_normal((z, y, x, 3)) * 3).astype(dtype)
    row, column = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    direction = np.column_stack([row, column, np.cross(row, column)])
    field = write_field(tmp_path / "field.mha", vectors, origin=origin, spacing=spacing,
                        direction=direction)
    return Case(field=field, fixed=tmp_path / "fixed", moving=tmp_path / "moving",
                vectors=vectors)


@pytest.fixture
def case(tmp_path: Path) -> Case:
    """A small default case."""
    return make_case(tmp_path)


def dciodvfy_counts(path: Path) -> tuple[list[str], list[str]]:
    """dciodvfy's Error and Warning lines for a file (dciodvfy must be installed)."""
    result = run_dciodvfy(path)
    return result.errors, result.warnings
