"""What a deformation looks like: displacement magnitude and the Jacobian determinant.

The Jacobian determinant of the mapping x -> x + v(x) says how a small volume changes: 1 is
no change, below 1 shrinking, above 1 growing, and 0 or less folding (the mapping turns
space inside out there, which no real tissue does). Derivatives are taken in patient
coordinates (mm), by central differences, slab by slab, so that a large field never needs
nine full-size gradient arrays at once, and a memory-mapped field's pages are given back
after each slab (:func:`dicomreg.core.itk.release_pages`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dicomreg.core.image import Geometry
from dicomreg.core.itk import release_pages

__all__ = ["Folding", "folding", "jacobian_determinant", "magnitude"]


def magnitude(vectors: np.ndarray) -> np.ndarray:
    """|v| in mm, NaN where the vector is undefined."""
    return np.sqrt(np.sum(np.square(np.asarray(vectors, dtype=np.float32)), axis=-1))


#: slices computed at once: the gradient's temporaries are about ten float64 copies of the
#: slices and their halo, 250 MB for two 512 x 512 slices (120 MB for sixteen was 1.1 GB)
_SLICES = 2


def jacobian_determinant(vectors: np.ndarray, geometry: Geometry, first: int = 0,
                         last: int | None = None) -> np.ndarray:
    """det(I + dv/dx) for slices ``first`` to ``last`` (exclusive) of a (Z, Y, X, 3) field."""
    depth = vectors.shape[0]
    last = depth if last is None else min(last, depth)
    parts = [_determinant(vectors, geometry, start, min(start + _SLICES, last))
             for start in range(first, last, _SLICES)]
    if not parts:
        return np.empty((0, *vectors.shape[1:3]))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _determinant(vectors: np.ndarray, geometry: Geometry, first: int, last: int
                 ) -> np.ndarray:
    depth = vectors.shape[0]
    low, high = max(0, first - 1), min(depth, last + 1)  # one slice of halo each side
    stored = vectors[low:high]
    slab = np.asarray(stored, dtype=np.float64)
    # A memory-mapped field's pages are given back once read: a pass over the whole field
    # (the statistics of a preview) then holds one slab, not the field, in resident memory.
    release_pages(vectors, stored)
    # Derivatives along the array's axes (z, y, x), in voxel steps: (n, 3 components).
    steps = []
    for axis in (2, 1, 0):  # i (x), j (y), k (z): the index axes
        if slab.shape[axis] > 1:
            steps.append(np.gradient(slab, axis=axis))
        else:
            steps.append(np.zeros_like(slab))
    index_gradient = np.stack(steps, axis=-1)  # d v_c / d index_a: (..., c, a)
    # Chain rule: d/dx = d/dindex @ inverse(direction * spacing).
    to_index = np.linalg.inv(geometry.direction_matrix * np.asarray(geometry.spacing))
    gradient = index_gradient @ to_index
    jacobian = gradient + np.eye(3)
    return _det3(jacobian[first - low : first - low + (last - first)])


def _det3(m: np.ndarray) -> np.ndarray:
    """The determinants of a stack of 3x3 matrices by their cofactors: the same values as
    numpy's (to 1e-15 on unit-sized ones) at a fraction of the time, since numpy factors each
    small matrix by LU (0.15 s of a registration's 0.27 s quality report, 96x96x48)."""
    return (m[..., 0, 0] * (m[..., 1, 1] * m[..., 2, 2] - m[..., 1, 2] * m[..., 2, 1])
            - m[..., 0, 1] * (m[..., 1, 0] * m[..., 2, 2] - m[..., 1, 2] * m[..., 2, 0])
            + m[..., 0, 2] * (m[..., 1, 0] * m[..., 2, 1] - m[..., 1, 1] * m[..., 2, 0]))


@dataclass(frozen=True)
class Folding:
    """Voxels whose Jacobian determinant is 0 or less, and the determinant's range."""

    count: int
    voxels: int
    minimum: float
    maximum: float

    @property
    def fraction(self) -> float:
        """The folded share of the defined voxels."""
        return self.count / self.voxels if self.voxels else 0.0


def folding(vectors: np.ndarray, geometry: Geometry, slab: int = 16) -> Folding:
    """Count folding over the whole field, slab by slab (NaN vectors are left out)."""
    count, voxels, low, high = 0, 0, np.inf, -np.inf
    for first in range(0, vectors.shape[0], slab):
        det = jacobian_determinant(vectors, geometry, first, first + slab)
        defined = np.isfinite(det)
        values = det[defined]
        count += int(np.count_nonzero(values <= 0))
        voxels += int(values.size)
        if values.size:
            low, high = min(low, float(values.min())), max(high, float(values.max()))
    return Folding(count, voxels, low if voxels else float("nan"),
                   high if voxels else float("nan"))
