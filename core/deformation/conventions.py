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
  (SimpleITK's InvertDisplacementField), and the residual |v(x) + u(x + v(x))| is reported.
  That residual is the standard's equation (PS3.3 C.20.3.1.1) with the identity matrices
  such a field comes with: the REG sends x to x + v(x), v taken at x itself, and u taken
  where that lands brings it back; there is no pre-deformation matrix to index v elsewhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from dataclasses import field as dataclass_field
from typing import Any

import numpy as np

from dicomreg.core.errors import DicomRegError
from dicomreg.core.image import Geometry, Image

__all__ = ["CONVENTION_OPTIONS", "ConventionError", "FieldConvention", "Inversion",
           "to_reg_convention"]


class ConventionError(DicomRegError):
    """A convention option that is unknown or cannot be applied; the message says why."""


def _option(*choices: str) -> Any:
    """A convention option: its choices, the first (ITK's, the REG's own) the default."""
    return dataclass_field(default=choices[0], metadata={"choices": choices})


@dataclass(frozen=True)
class FieldConvention:
    """How a displacement field file was written; every default is the REG's own convention.

    Raises
    ------
    ConventionError
        On construction, for a value that is not one of its option's choices, naming the
        option, the value and the choices.
    """

    components: str = _option("lps", "ras")
    units: str = _option("mm", "voxel")
    kind: str = _option("displacement", "deformation")
    direction: str = _option("pull", "push")

    def __post_init__(self) -> None:
        for option, value in asdict(self).items():
            if value not in CONVENTION_OPTIONS[option]:
                raise ConventionError(f"{option}: {value!r} is not one of "
                                      f"{', '.join(CONVENTION_OPTIONS[option])}")


#: option -> its choices, the first the default (the command line's choices come from here)
CONVENTION_OPTIONS: dict[str, tuple[str, ...]] = {
    option.name: option.metadata["choices"] for option in fields(FieldConvention)}


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


def _sitk_field(voxels: np.ndarray, geometry: Geometry):
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(np.asarray(voxels, dtype=np.float64), isVector=True)
    image.SetOrigin(geometry.origin)
    image.SetSpacing(geometry.spacing)
    image.SetDirection(geometry.direction)
    return image


def _positions(geometry: Geometry) -> np.ndarray:
    """Voxel centre positions (Z, Y, X, 3) of a grid."""
    x, y, z = geometry.size
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    return geometry.index_to_point(np.stack([i, j, k], axis=-1))


def invert_push_field(voxels: np.ndarray, geometry: Geometry, target: Geometry,
                      iterations: int = 50) -> tuple[np.ndarray, Inversion]:
    """The pull field on ``target`` that undoes a push field u on ``geometry``."""
    import SimpleITK as sitk

    push = _sitk_field(voxels, geometry)
    inverse = sitk.InvertDisplacementField(
        push, maximumNumberOfIterations=iterations, maxErrorToleranceThreshold=0.01,
        meanErrorToleranceThreshold=0.0001, enforceBoundaryCondition=False)
    reference = sitk.Image([int(n) for n in target.size], sitk.sitkVectorFloat64, 3)
    reference.SetOrigin(target.origin)
    reference.SetSpacing(target.spacing)
    reference.SetDirection(target.direction)
    pull = sitk.Resample(inverse, reference, sitk.Transform(), sitk.sitkLinear, 0.0,
                         sitk.sitkVectorFloat64)
    # The residual: u sampled where v sends each target point, added to v, is zero for a
    # perfect inverse.
    along = sitk.DisplacementFieldTransform(sitk.Image(pull))
    u_there = sitk.Resample(push, reference, along, sitk.sitkLinear, 0.0,
                            sitk.sitkVectorFloat64)
    v = sitk.GetArrayFromImage(pull)
    residual = np.linalg.norm(v + sitk.GetArrayFromImage(u_there), axis=-1)
    # Where x + v(x) falls, in the push field's voxel indices: only on its grid is u known.
    world = geometry.world_matrix
    reached = (_positions(target) + v - world[:3, 3]) @ np.linalg.inv(world[:3, :3]).T
    inside = np.all((reached >= 0) & (reached <= np.asarray(geometry.size) - 1), axis=-1)
    kept = residual[inside] if inside.any() else np.zeros(1)
    return v.astype(np.float32), Inversion(float(kept.max()), float(kept.mean()),
                                           int((~inside).sum()), int(inside.size))


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
