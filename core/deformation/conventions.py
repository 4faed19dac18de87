"""Displacement fields in the conventions other tools use, turned into the REG's own.

A REG's grid holds, at each fixed (registered) voxel centre x, the vector v(x) in
millimetres, in patient coordinates (LPS), such that x + v(x) is the same point in the moving
(source) image: a pull-back field. ITK, SimpleITK, ANTs (``antsApplyTransforms`` warps),
elastix (``transformix -def all``) and plastimatch write exactly that. Other conventions met
in practice, each an explicit option:

- ``components="ras"``: vectors in RAS, as NiftyReg (``reg_transform -disp``) and other
  NIfTI tools write them; x and y are negated.
- ``units="voxel"``: vectors in voxel steps along the grid's axes, as some learning-based
  registration tools write them; each is multiplied by the spacing and the direction.
- ``kind="deformation"``: absolute positions y(x) instead of displacements (NiftyReg's
  deformation fields, ITK's "deformation field" naming); v = y - x.
- ``direction="push"``: a field u on the moving grid with moving + u = fixed (the inverse
  direction, as some planning systems export); it is inverted numerically onto the fixed grid
  (ITK's fixed-point inverse, with progress and cancel), and the residual
  |v(x) + u(x + v(x))| is reported.
  That residual is the standard's equation (PS3.3 C.20.3.1.1) with the identity matrices
  such a field comes with: the REG sends x to x + v(x), v taken at x itself, and u taken
  where that lands brings it back; there is no pre-deformation matrix to index v elsewhere.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from dicomreg.core.cores import usable_cores
from dicomreg.core.deformation.field_convention import ConventionError, FieldConvention
from dicomreg.core.deformation.fixed_point import Field, Reach, fixed_point_step, padded_push
from dicomreg.core.image import Geometry, Image
from dicomreg.core.itk import new_image, release_pages

__all__ = ["Inversion", "InversionCancelledError", "invert_push_field", "to_reg_convention"]


@dataclass
class Inversion:
    """How well a push field was inverted: the residual |v(x) + u(x + v(x))| in mm, where
    x + v(x) lies on the push field's grid, and how many points map off it (there u is
    unknown, and so is the inverse)."""

    max_mm: float
    mean_mm: float
    outside: int
    points: int

    def __str__(self) -> str:
        text = (f"push field inverted: residual max {self.max_mm:.3g} mm, mean "
                f"{self.mean_mm:.3g} mm")
        if self.outside:
            text += (f"; {self.outside} of {self.points} points map off the push field's grid,"
                     " where the inverse is unknown")
        return text


def _positions(geometry: Geometry) -> np.ndarray:
    """Voxel centre positions (Z, Y, X, 3) of a grid."""
    x, y, z = geometry.size
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    return geometry.index_to_point(np.stack([i, j, k], axis=-1))


class InversionCancelledError(ConventionError):
    """The inversion of a push field was cancelled (its ``cancel`` event was set)."""


#: progress(iteration, most iterations, largest residual so far in mm)
Progress = Callable[[int, int, float], None]


def _terminal_progress(iteration: int, most: int, residual: float) -> None:
    sys.stderr.write(f"\rinverting the push field: iteration {iteration}/{most}, residual "
                     f"max {residual:.3g} mm ")
    sys.stderr.flush()


def _require_finite_push(voxels: np.ndarray) -> float:
    """A push field is resampled and iterated: each of its components must be a finite
    float32 (NaN, 'undefined', has no inverse; beyond float32 the copy would be infinite).
    Returns the largest vector's length in mm (how far u can send a point off its grid)."""
    largest = float(np.finfo(np.float32).max)
    longest = 0.0
    for k in range(voxels.shape[0]):  # a slab at a time: no copy of the field's size
        slab = np.asarray(voxels[k], dtype=float)
        release_pages(voxels, voxels[k])
        bad = ~(np.isfinite(slab) & (np.abs(slab) <= largest))
        if bad.any():
            z, (y, x, _c) = k, np.argwhere(bad)[0]
            raise ConventionError(
                f"the push field's vector at voxel (x={x}, y={y}, z={z}) is "
                f"({', '.join(f'{v:g}' for v in slab[y, x])}) "
                "(not a finite float32); a push field is inverted, so every vector must be "
                "finite millimetres")
        longest = max(longest, float(np.sqrt(np.einsum("...i,...i->...", slab, slab).max(
            initial=0.0))))
    return longest


def invert_push_field(voxels: np.ndarray, geometry: Geometry, target: Geometry,
                      iterations: int = 50, *, tolerance_mm: float = 0.01,
                      mean_tolerance_mm: float = 0.0001, progress: Progress | None = None,
                      cancel: threading.Event | None = None) -> tuple[np.ndarray, Inversion]:
    """The pull field on ``target`` that undoes a push field u on ``geometry``.

    ITK's fixed-point inverse (FixedPointInverseDisplacementFieldImageFilter's iteration),
    computed on ``target`` directly: v <- -u(x + v(x)), starting from v = 0, until the
    residual |v(x) + u(x + v(x))| over the points that land on u's grid is at most
    ``tolerance_mm`` (largest) and ``mean_tolerance_mm`` (mean), or after ``iterations``.
    Each step is one multithreaded ITK pass, SimpleITK's Warp, and one numpy pass in threads
    (see :mod:`.fixed_point`); the residual is that step's own difference, so it costs
    nothing more. It converges where u's Jacobian is below 1 in norm (any field free of
    folding nearly is), as SimpleITK's InvertDisplacementField.

    ``progress`` is called after each step (by default a line on stderr when it is a
    terminal); setting ``cancel`` stops at the next step with :class:`InversionCancelledError`.
    """
    import SimpleITK as sitk

    push = padded_push(voxels, geometry, _require_finite_push(voxels))
    if progress is None and sys.stderr.isatty():
        progress = _terminal_progress
    reach = Reach(geometry, target)
    v = Field(*new_image(target, sitk.sitkVectorFloat32, 3))  # v = 0
    with ThreadPoolExecutor(usable_cores()) as pool:
        for iteration in range(1, iterations + 2):
            if cancel is not None and cancel.is_set():
                raise InversionCancelledError("the inversion of the push field was cancelled")
            following, (worst, mean, kept) = fixed_point_step(push, v, target, reach, pool)
            if progress is not None:
                progress(iteration, iterations, worst)
            if (worst <= tolerance_mm and mean <= mean_tolerance_mm) or iteration > iterations:
                break  # v (not the next step) is returned, with its residual measured
            v = following
    if progress is _terminal_progress:
        sys.stderr.write("\n")
    del following, push  # before the copy: the peak is u, v and one step's output
    points = int(np.prod(target.size))
    return v.array.copy(), Inversion(worst, mean, points - kept, points)


def to_reg_convention(image: Image, convention: FieldConvention | None = None, *,
                      target: Geometry | None = None) -> tuple[Image, list[str]]:
    """The field in the REG's convention (pull, LPS, millimetres), and notes for the user.

    ``convention`` is how the field was written (the REG's own when not given); with every
    option at its default the image is returned as it is (no copy). ``target`` is the grid a
    push field is inverted onto (the fixed image's); its own grid otherwise.
    """
    convention = convention or FieldConvention()
    notes = []
    if image.lps_conversion:
        if convention.components == "ras":
            raise ConventionError(
                f"components ras: '{image.source}' declares the space of its vectors and they "
                f"were turned into LPS on reading ({image.lps_conversion}); leave components "
                "at lps")
        notes.append(image.lps_conversion)
    if image.reading_note:
        notes.append(image.reading_note)
    if convention == FieldConvention():
        return image, notes
    geometry = image.geometry
    assert image.voxels is not None and geometry is not None
    vectors = image.voxels  # a push field alone is read slab by slab as it is: no copy
    if replace(convention, direction="pull") != FieldConvention():
        vectors = np.array(image.voxels, dtype=np.float64)  # converted: one copy, on purpose
    if convention.units == "voxel":
        vectors = vectors @ (geometry.direction_matrix * np.asarray(geometry.spacing)).T
        notes.append("vectors converted from voxel steps to millimetres")
    if convention.components == "ras":
        vectors[..., :2] *= -1
        notes.append("x and y components negated (RAS to LPS)")
    if convention.kind == "deformation":
        vectors = vectors - _positions(geometry)
        notes.append("absolute positions turned into displacements")
    if convention.direction == "push":
        target = target or geometry
        pull, inversion = invert_push_field(vectors, geometry, target)
        notes.append(str(inversion))
        return Image(voxels=pull, geometry=target, datasets=image.datasets,
                     source=image.source), notes
    return Image(voxels=vectors.astype(np.float32), geometry=geometry, datasets=image.datasets,
                 source=image.source), notes
