"""Frame of Reference Transformation Matrices and their types (RIGID, RIGID_SCALE, AFFINE).

A matrix is 4x4, row-major in DICOM (3006,00C6), mapping homogeneous points; its last row
must be 0 0 0 1. The type is a claim about the upper 3x3 part:

- RIGID: a rotation (orthonormal, determinant +1), plus translation.
- RIGID_SCALE: a rotation with positive scale factors along orthogonal axes (its columns are
  mutually orthogonal, determinant > 0), plus translation.
- AFFINE: any invertible matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MATRIX_TYPES", "classify_matrix", "linear_transform_matrix", "matrix_problem"]

MATRIX_TYPES = ("RIGID", "RIGID_SCALE", "AFFINE")
# DS values carry at most 16 characters, so matrices read back from files are rounded to
# about 1e-6 relative; the tolerance is well above that and far below any real scaling.
_TOLERANCE = 1e-4


# Beyond this an entry's square (in the determinant, the Gram matrix) overflows float64: such
# a matrix is no registration, and is refused rather than classified through infinities.
_LARGEST = 1e100


def _as_matrix(values: Sequence[float] | np.ndarray) -> np.ndarray:
    matrix = np.asarray(values, dtype=float).reshape(4, 4)
    return matrix


def _out_of_range(matrix: np.ndarray) -> bool:
    return not bool(np.all(np.isfinite(matrix)) and np.all(np.abs(matrix) <= _LARGEST))


def classify_matrix(values: Sequence[float] | np.ndarray) -> str | None:
    """Return the narrowest type the matrix satisfies, or None if it is not a valid matrix
    (also when an entry is not finite or beyond 1e100)."""
    matrix = _as_matrix(values)
    if _out_of_range(matrix) or not np.allclose(matrix[3], (0, 0, 0, 1), atol=_TOLERANCE):
        return None
    linear = matrix[:3, :3]
    determinant = float(np.linalg.det(linear))
    if abs(determinant) < 1e-9:
        return None
    gram = linear.T @ linear
    if determinant > 0 and np.allclose(gram, np.eye(3), atol=_TOLERANCE):
        return "RIGID"
    off_diagonal = gram - np.diag(np.diag(gram))
    scale = float(np.max(np.diag(gram)))
    if determinant > 0 and np.all(np.abs(off_diagonal) <= _TOLERANCE * scale):
        return "RIGID_SCALE"
    return "AFFINE"


def matrix_problem(values: Sequence[float] | np.ndarray, claimed: str) -> str | None:
    """What is wrong with a matrix of the claimed type, or None if it is one."""
    actual = classify_matrix(values)
    if actual is None:
        matrix = _as_matrix(values)
        if _out_of_range(matrix):
            return (f"an entry is not a finite number of at most {_LARGEST:g} in magnitude; "
                    "expected the matrix of a registration")
        if not np.allclose(matrix[3], (0, 0, 0, 1), atol=_TOLERANCE):
            return "its last row must be 0 0 0 1"
        return "it is singular (not invertible)"
    order = {name: rank for rank, name in enumerate(MATRIX_TYPES)}
    if order[actual] > order[claimed]:
        explain = {
            "RIGID": "a RIGID matrix must be a rotation (orthonormal, determinant +1) plus a "
            "translation",
            "RIGID_SCALE": "a RIGID_SCALE matrix must be a rotation with positive scale factors "
            "(orthogonal columns)",
        }[claimed]
        return f"it is {actual}, not {claimed}: {explain}"
    return None


def linear_transform_matrix(transform: object) -> np.ndarray:
    """The 4x4 matrix of a linear (SimpleITK or ITK) transform, from where it sends the origin
    and the axes: whatever its parametrisation (centre, versor, Euler angles)."""
    origin = np.asarray(transform.TransformPoint((0.0, 0.0, 0.0)))
    matrix = np.eye(4)
    for axis in range(3):
        unit = [0.0, 0.0, 0.0]
        unit[axis] = 1.0
        matrix[:3, axis] = np.asarray(transform.TransformPoint(unit)) - origin
    matrix[:3, 3] = origin
    return matrix
