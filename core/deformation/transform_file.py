"""ITK transform files (.h5, .tfm, .txt) as a REG's grid and matrices, through SimpleITK.

An ITK transform maps a fixed (registered) point to its moving (source) position, as a REG
does. A composite transform applies its parts last-added first (checked against SimpleITK);
in that order of application, the linear parts applied before the deformable part become the
pre-deformation matrix, those applied after it the post-deformation matrix (each typed
RIGID, RIGID_SCALE or AFFINE from the matrix itself), and the deformable part becomes the
grid:

- a displacement field transform keeps its own grid and vectors;
- a B-spline (or any other deformable) transform is sampled densely on the fixed image's
  grid (``grid``), since its control points are not a displacement grid;
- several deformable parts are composed and sampled together;
- a pre-deformation part that is not rigid cannot move a DICOM grid (whose axes must stay
  orthonormal), so it is sampled into the grid instead, and the notes say so.

A transform with no deformable part is refused: it is a rigid or affine registration, which
DICOM stores as a (non-deformable) Spatial Registration object.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dicomreg.core.deformation.loaded import LoadedDeformation
from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import TRANSFORM_SUFFIXES
from dicomreg.core.image import Geometry, Image
from dicomreg.core.itk_messages import itk_reason, native_stderr
from dicomreg.core.matrices import classify_matrix

__all__ = ["TRANSFORM_SUFFIXES", "TransformFileError", "TransformRegistration",
           "read_transform_file"]

_IDENTITY = np.eye(4)


class TransformFileError(DicomRegError):
    """A transform file that cannot become a deformable registration; says why."""


# The former name of what a transform file gives, kept for callers that use it.
TransformRegistration = LoadedDeformation


def _matrix(transform: object) -> np.ndarray:
    """The 4x4 matrix of a linear transform, from where it sends the origin and the axes."""
    origin = np.asarray(transform.TransformPoint((0.0, 0.0, 0.0)))  # type: ignore[attr-defined]
    matrix = np.eye(4)
    for axis in range(3):
        unit = [0.0, 0.0, 0.0]
        unit[axis] = 1.0
        matrix[:3, axis] = np.asarray(transform.TransformPoint(unit)) - origin  # type: ignore[attr-defined]
    matrix[:3, 3] = origin
    return matrix


def _sample(transforms: list, grid: Geometry) -> np.ndarray:
    """d(q) = N(q) - q of the transforms (in order of application) at the grid's points."""
    import SimpleITK as sitk

    composite = sitk.CompositeTransform(3)
    for transform in reversed(transforms):  # ITK applies the last added first
        composite.AddTransform(transform)
    sampled = sitk.TransformToDisplacementField(
        composite, sitk.sitkVectorFloat64, [int(n) for n in grid.size], grid.origin,
        grid.spacing, grid.direction)
    return sitk.GetArrayFromImage(sampled).astype(np.float32)


def _moved_grid(grid: Geometry, matrix: np.ndarray) -> Geometry:
    """The grid carried by a rigid matrix: its origin and axes moved, its spacing kept."""
    origin = matrix[:3, :3] @ np.asarray(grid.origin) + matrix[:3, 3]
    direction = matrix[:3, :3] @ grid.direction_matrix
    return Geometry(grid.size, grid.spacing, tuple(float(v) for v in origin),
                    tuple(float(v) for v in direction.ravel()))


def _foreign_transform_hint(path: Path) -> str | None:
    """What to do with another tool's own transform file that shares ITK's ``.txt`` suffix:
    elastix's ``(Key value)`` parameter files and plastimatch's native B-spline files."""
    try:
        with open(path, encoding="latin-1") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    lines = [line.strip() for line in head.splitlines()
             if line.strip() and not line.strip().startswith("//")]
    if lines and lines[0].startswith("(") and "(Transform " in head:
        return (f"'{path}' is an elastix transform parameter file, not an ITK transform; let "
                f"transformix write the field: transformix -def all -tp {path.name} -out DIR, "
                "then give DIR/deformationField.mhd (on the fixed grid, LPS, pull: as is)")
    if lines and lines[0].startswith(("MGH_GPUIT_BSP", "MGH_XFORM_")):
        return (f"'{path}' is a plastimatch native transform, not an ITK transform; let "
                f"plastimatch write the field: plastimatch xf-convert --input {path.name} "
                "--output field.mha --output-type vf --fixed FIXED, then give field.mha")
    return None


def _check_text_parameters(path: Path, stored: list) -> None:
    """In ITK's text format, each transform's parameter lines must hold as many numbers as
    the transform has: ITK reads a cut line without complaint, the rest left at zero."""
    text = path.read_text(encoding="latin-1")
    if not text.startswith("#Insight Transform File"):
        return  # HDF5 or MATLAB: their readers see a cut themselves
    blocks = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "Transform":
            blocks.append({"name": value.strip()})
        elif key in ("Parameters", "FixedParameters") and blocks:
            blocks[-1][key] = len(value.split())
    blocks = [b for b in blocks if not b["name"].startswith("CompositeTransform")]
    if len(blocks) != len(stored):
        raise TransformFileError(f"'{path}' lists {len(blocks)} transform(s) but ITK read "
                                 f"{len(stored)} (a damaged file)")
    for number, (block, transform) in enumerate(zip(blocks, stored, strict=True)):
        for key, wanted in (("Parameters", len(transform.GetParameters())),
                            ("FixedParameters", len(transform.GetFixedParameters()))):
            if block.get(key, 0) != wanted:
                raise TransformFileError(
                    f"'{path}': transform {number} ({block['name']}) lists "
                    f"{block.get(key, 0)} {key.replace('Fixed', 'fixed ').lower()} where it "
                    f"has {wanted} "
                    "(a truncated or damaged file); expected the file as ITK wrote it")


def read_transform_file(path: str | os.PathLike[str],
                        grid: Geometry | None = None) -> LoadedDeformation:
    """A transform file as a REG's grid and matrices (see the module documentation).

    Parameters
    ----------
    path
        An ITK transform file SimpleITK reads.
    grid
        The fixed image's grid, on which a B-spline or other deformable transform is sampled.

    Raises
    ------
    TransformFileError
        If the file is unreadable, has no deformable part, or needs a grid not given.
    """
    import SimpleITK as sitk

    path = Path(path)
    if not path.is_file():
        raise TransformFileError(f"transform file '{path}' does not exist")
    hint = _foreign_transform_hint(path)
    if hint:
        raise TransformFileError(hint)
    failure = None
    with native_stderr() as diagnostics:  # HDF5 prints a long stack there
        try:
            transform = sitk.ReadTransform(str(path))
        except RuntimeError as error:
            failure = error
    if failure is not None:
        raise TransformFileError(f"cannot read '{path}' as an ITK transform "
                                 f"({' '.join(TRANSFORM_SUFFIXES)}): "
                                 f"{itk_reason(failure, diagnostics)}")
    if transform.GetDimension() != 3:
        raise TransformFileError(f"'{path}' holds a {transform.GetDimension()}-D transform; "
                                 "expected 3-D")
    if transform.GetName() == "CompositeTransform":
        composite = sitk.CompositeTransform(transform)
        stored = [composite.GetNthTransform(i) for i in range(composite.GetNumberOfTransforms())]
    else:
        stored = [transform]
    _check_text_parameters(path, stored)
    applied = list(reversed(stored))  # in a composite, the last added is applied first
    deformable = [i for i, t in enumerate(applied) if not t.IsLinear()]
    if not deformable:
        raise TransformFileError(f"'{path}' holds only linear transforms: that is a rigid or "
                                 "affine registration, a Spatial Registration object rather "
                                 "than a deformable one")
    first, last = deformable[0], deformable[-1]
    pre = _IDENTITY.copy()
    for linear in applied[:first]:
        pre = _matrix(linear) @ pre
    post = _IDENTITY.copy()
    for linear in applied[last + 1 :]:
        post = _matrix(linear) @ post
    middle = applied[first : last + 1]
    notes = []
    if len(middle) == 1 and middle[0].GetName() == "DisplacementFieldTransform":
        field_image = sitk.DisplacementFieldTransform(middle[0]).GetDisplacementField()
        own = Geometry.from_itk(field_image.GetSize(), field_image.GetSpacing(),
                                field_image.GetOrigin(), field_image.GetDirection())
        vectors = sitk.GetArrayFromImage(field_image).astype(np.float32)
        if np.allclose(pre, _IDENTITY) or classify_matrix(pre) == "RIGID":
            return LoadedDeformation(Image(vectors, own, source=str(path)), pre, post,
                                     ["the displacement field transform keeps its own grid"],
                                     has_matrices=True)
    if grid is None:
        raise TransformFileError(f"'{path}' holds a {middle[0].GetName()}, which is sampled on "
                                 "the fixed image's grid: give the fixed image (--fixed)")
    if not np.allclose(pre, _IDENTITY) and classify_matrix(pre) != "RIGID":
        notes.append("the pre-deformation transform is not rigid, so it was sampled into the "
                     "grid together with the deformation (pre-deformation matrix: identity)")
        middle = applied[: last + 1]
        pre = _IDENTITY.copy()
    sampling = grid if np.allclose(pre, _IDENTITY) else _moved_grid(grid, pre)
    names = " and ".join(t.GetName() for t in middle)
    notes.append(f"the {names} was sampled on the fixed image's grid")
    return LoadedDeformation(Image(_sample(middle, sampling), sampling, source=str(path)),
                             pre, post, notes, has_matrices=True)
