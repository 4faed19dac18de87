"""The numerics of a push field's fixed-point inverse: v <- -u(x + v(x)) on the target grid.

One step is one multithreaded ITK pass, SimpleITK's Warp: u sampled at x + v(x) for every
voxel centre x of the target grid, v read straight from its own grid (no interpolation of v,
no transform object, no reference image): about 1.5 s of CPU for 6.5 million points where a
Resample of u through v's DisplacementFieldTransform takes 2.5 s. Then one numpy pass, slabs
in parallel (numpy releases the GIL): the residual |v + u(x + v)| over the points whose
x + v(x) lands on u's grid, and the next v = -u(x + v), written over Warp's own output.
u and v are float32, as the field read and the field returned are: Warp adds them to the
voxel centres in double, and float32's 1e-7 relative rounding is some 1e-6 mm on vectors of
millimetres, a hundredth of the default mean tolerance (halving the memory of float64).

Beyond its grid Warp samples zero: a point near the border that one step sends off the grid
would then jump to v = 0 and back, two steps round, for ever. u is therefore extended by its
border vectors (edge-replicated) over a margin as wide as its largest vector, so such a point
keeps a vector like its neighbours'. The margin is capped (a wild field must not make the
copy many times its size); a point that lands beyond the capped margin takes the vector of
u's nearest border voxel instead of Warp's zero (what ITK's nearest-neighbour extrapolation
gave): without that, such points swung between 0 and -u for ever (found by review: a
48x48x10 field with 5 mm along z stopped at its iteration limit 11 mm off).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from dicomreg.core.cores import usable_cores
from dicomreg.core.image import Geometry
from dicomreg.core.itk import new_image, release_pages, writable_array

__all__ = ["Field", "Reach", "fixed_point_step", "padded_push"]


def _margins(geometry: Geometry, largest_mm: float) -> list[int]:
    """Voxels of border to add on each side along x, y, z: the largest vector's length in
    that axis's voxels and one more for the interpolation, at most an eighth of the axis (and
    two) so that a wild field cannot make the copy many times its size."""
    return [min(math.ceil(largest_mm / spacing) + 1, n // 8 + 2)
            for n, spacing in zip(geometry.size, geometry.spacing, strict=True)]


def padded_push(voxels: np.ndarray, geometry: Geometry, largest_mm: float) -> Any:
    """u as a float32 vector image, edge-replicated over :func:`_margins`; filled slab by
    slab, so no other copy of ``voxels`` is made (and a memory-mapped field's pages are given
    back as each slab is copied)."""
    import SimpleITK as sitk

    mx, my, mz = _margins(geometry, largest_mm)
    x, y, z = geometry.size
    shift = geometry.direction_matrix @ (np.array([mx, my, mz]) * np.asarray(geometry.spacing))
    padded = Geometry((x + 2 * mx, y + 2 * my, z + 2 * mz), geometry.spacing,
                      tuple(float(c) for c in np.asarray(geometry.origin) - shift),
                      geometry.direction)
    image, array = new_image(padded, sitk.sitkVectorFloat32, 3)
    for k in range(z):
        plane = array[mz + k]
        plane[my:my + y, mx:mx + x] = voxels[k]
        release_pages(voxels, voxels[k])
        plane[my:my + y, :mx] = plane[my:my + y, mx:mx + 1]
        plane[my:my + y, mx + x:] = plane[my:my + y, mx + x - 1:mx + x]
        plane[:my] = plane[my]
        plane[my + y:] = plane[my + y - 1]
    array[:mz] = array[mz]
    array[mz + z:] = array[mz + z - 1]
    return image


@dataclass
class Field:
    """v on the target grid: a SimpleITK image and a writable numpy array on its buffer."""

    image: Any
    array: np.ndarray


class Reach:
    """Whether x + v(x), x a voxel centre of ``target``, lies on u's grid (``geometry``):
    its continuous index in u's grid, base(x) + M v, within [0, size - 1] on each axis."""

    def __init__(self, geometry: Geometry, target: Geometry) -> None:
        world = geometry.world_matrix
        to_index = np.linalg.inv(world)
        from_target = to_index @ target.world_matrix  # target index -> u's index
        x, y, _z = (int(n) for n in target.size)
        j, i = np.meshgrid(np.arange(y), np.arange(x), indexing="ij")
        self.plane = np.stack([i, j], axis=-1) @ from_target[:3, :2].T + from_target[:3, 3]
        self.along = from_target[:3, 2]
        self.matrix = to_index[:3, :3].T.copy()
        self.half = (np.asarray(geometry.size, dtype=float) - 1) / 2

    def index(self, k: int, v: np.ndarray) -> np.ndarray:
        """The continuous index (Y, X, 3; i, j, k) in u's grid of x + v(x) over slab ``k``."""
        reached = v @ self.matrix
        reached += self.plane
        reached += self.along * k
        return reached

    def inside(self, index: np.ndarray) -> np.ndarray:
        """Where a continuous index (see :meth:`index`) lies on u's grid."""
        return np.all(np.abs(index - self.half) <= self.half, axis=-1)


def _nearest_beyond(there: np.ndarray, index: np.ndarray, padded: np.ndarray,
                    size: np.ndarray) -> None:
    """Where x + v(x) lands beyond the padded margin (Warp gave 0 there), u's nearest border
    vector instead, in place."""
    margin = (np.asarray(padded.shape[2::-1]) - size) // 2  # x, y, z voxels each side
    far = np.any((index < -margin) | (index > size - 1 + margin), axis=-1)
    if far.any():
        near = np.clip(np.rint(index[far]), 0, size - 1).astype(np.intp) + margin
        there[far] = padded[near[:, 2], near[:, 1], near[:, 0]]


def _slabs(v: np.ndarray, there: np.ndarray, reach: Reach, padded: np.ndarray, first: int,
           end: int) -> tuple[float, float, int]:
    """Residual statistics of slabs [first, end) (largest, sum, points on u's grid), and the
    next v = -u(x + v) written over ``there`` (u(x + v))."""
    worst, total, count = 0.0, 0.0, 0
    size = (2 * reach.half + 1).round().astype(np.intp)
    for k in range(first, end):
        vk, uk = v[k], there[k]
        index = reach.index(k, vk)
        _nearest_beyond(uk, index, padded, size)
        r = vk + uk
        norm = np.sqrt(np.einsum("...i,...i->...", r, r))
        kept = norm[reach.inside(index)]
        if kept.size:
            worst = max(worst, float(kept.max()))
            total += float(kept.sum(dtype=np.float64))
            count += int(kept.size)
        np.negative(uk, out=uk)
    return worst, total, count


def fixed_point_step(push: Any, v: Field, target: Geometry, reach: Reach,
                     pool: ThreadPoolExecutor) -> tuple[Field, tuple[float, float, int]]:
    """One step: the next v = -u(x + v(x)), and the residual |v(x) + u(x + v(x))| of this v
    over the points that land on u's grid (largest, mean, how many)."""
    import SimpleITK as sitk

    there = sitk.Warp(push, v.image, sitk.sitkLinear, [int(n) for n in target.size],
                      [float(c) for c in target.origin], [float(c) for c in target.spacing],
                      [float(c) for c in target.direction], 0.0)
    array = writable_array(there)
    depth = array.shape[0]
    parts = max(1, min(depth, 4 * usable_cores()))
    bounds = [depth * n // parts for n in range(parts + 1)]
    padded = sitk.GetArrayViewFromImage(push)  # u as padded: the border vectors' source
    done = list(pool.map(lambda n: _slabs(v.array, array, reach, padded, bounds[n],
                                          bounds[n + 1]), range(parts)))
    worst = max(part[0] for part in done)
    count = sum(part[2] for part in done)
    mean = sum(part[1] for part in done) / count if count else 0.0
    return Field(there, array), (worst, mean, count)
