"""ITK transform files (.h5, .tfm, .txt) as a REG's grid and matrices, through SimpleITK.

An ITK transform maps a fixed (registered) point to its moving (source) position, as a REG
does. A composite transform applies its parts last-added first (checked against SimpleITK);
in that order of application, the linear parts applied before the deformable part make the
affine A, those applied after it the affine B, and the deformable part is u (several
deformable parts, with whatever lies between them, are composed into one u). ITK maps

    p  ->  B (A p + u(A p)),

and a REG maps ``p -> Post (Pre p + D(p))`` with D stored at the registered point p itself
(PS3.3 C.20.3.1.1). So Post = B and Pre = A (each typed RIGID, RIGID_SCALE or AFFINE from the
matrix), and the grid holds **D(p) = u(A p)** at the registered grid's points, not u as it
stands:

- a displacement field transform with no linear part before it keeps its own grid and
  vectors (A = identity: D = u);
- with a rigid A before it, it keeps its vectors bit-exactly, on its grid carried back by
  A's inverse: a grid of the registered frame whose point p is the point A p of u's grid, so
  D(p) = u(A p) with no resampling (and, trilinear interpolation being defined on indices,
  between the points too);
- otherwise (a B-spline or any other deformable part, or a field after an A that is not
  rigid, whose image of the grid is no DICOM grid) u is sampled at A p for every point p of
  the fixed image's grid (``grid``), as ITK evaluates it: trilinear in a field, zero beyond
  its border.

Why keep A as the pre-deformation matrix rather than fold A into the field (D(p) = A p +
u(A p) - p, identity Pre): a planning system may show or use the registration's linear part
on its own (the rigid pre-alignment), which a folded field hides; folding would not spare the
resampling either, since u is needed at A p in both. Resampling u at A p needs u defined
there: ITK defines it everywhere (zero beyond a field's grid), and D then reproduces ITK's
mapping at every grid point, including those A sends beyond u's grid (they move by the
matrices alone, in ITK as in the REG).

A transform with no deformable part is refused: it is a rigid or affine registration, which
DICOM stores as a (non-deformable) Spatial Registration object.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dicomreg.core.deformation.loaded import LoadedDeformation
from dicomreg.core.deformation.text_transform import proven_text_transform
from dicomreg.core.deformation.transform_probe import (
    HDF5_SUFFIXES,
    check_hdf5_transform,
    check_in_child,
)
from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import TRANSFORM_SUFFIXES
from dicomreg.core.image import Geometry, Image
from dicomreg.core.input import require_regular_file
from dicomreg.core.itk import itk_reason, native_stderr
from dicomreg.core.matrices import classify_matrix, linear_transform_matrix

__all__ = ["TRANSFORM_SUFFIXES", "TransformRegistration", "read_transform_file",
           "transform_as_deformation"]

_IDENTITY = np.eye(4)


# The former name of what a transform file gives, kept for callers that use it.
TransformRegistration = LoadedDeformation


def _sample(deformable: list, pre: np.ndarray, grid: Geometry) -> np.ndarray:
    """D(p) = u(A p) at the grid's points, u the deformable transforms (in order of
    application) and A = ``pre``: ITK's displacement of "A, then u" at p, less A p - p."""
    import SimpleITK as sitk

    composite = sitk.CompositeTransform(3)
    for transform in reversed(deformable):  # ITK applies the last added first
        composite.AddTransform(transform)
    affine = sitk.AffineTransform(tuple(pre[:3, :3].ravel()), tuple(pre[:3, 3]))
    composite.AddTransform(affine)
    sampled = sitk.TransformToDisplacementField(
        composite, sitk.sitkVectorFloat64, [int(n) for n in grid.size], grid.origin,
        grid.spacing, grid.direction)
    full = sitk.GetArrayViewFromImage(sampled)  # A p + u(A p) - p
    vectors = np.empty(full.shape, np.float32)
    linear = pre[:3, :3] - np.eye(3)
    for k, points in grid.slab_points():  # less A p - p, a slab at a time
        vectors[k] = full[k] - (points @ linear.T + pre[:3, 3])
    return vectors


def _carried_back(grid: Geometry, rigid: np.ndarray) -> Geometry:
    """The grid whose point p is the point ``rigid @ p`` of ``grid``: its origin and axes
    moved by the rigid matrix's inverse, its spacing kept."""
    inverse = np.linalg.inv(rigid)
    origin = inverse[:3, :3] @ np.asarray(grid.origin) + inverse[:3, 3]
    direction = inverse[:3, :3] @ grid.direction_matrix
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
        raise DicomRegError(f"'{path}' lists {len(blocks)} transform(s) but ITK read "
                                 f"{len(stored)} (a damaged file)")
    for number, (block, transform) in enumerate(zip(blocks, stored, strict=True)):
        for key, wanted in (("Parameters", len(transform.GetParameters())),
                            ("FixedParameters", len(transform.GetFixedParameters()))):
            if block.get(key, 0) != wanted:
                raise DicomRegError(
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
    DicomRegError
        If the file is unreadable, has no deformable part, or needs a grid not given.
    """
    import SimpleITK as sitk

    path = Path(path)
    if not path.is_file():
        raise DicomRegError(f"transform file '{path}' does not exist")
    require_regular_file(path, "transform file")
    hint = _foreign_transform_hint(path)
    if hint:
        raise DicomRegError(hint)
    # ITK's readers are native and trust what they read: each file is proven first, by its
    # own words (text) or by a bounded child's read (HDF5, MATLAB, text of other kinds).
    if path.suffix.lower() in HDF5_SUFFIXES:
        check_hdf5_transform(path)
    elif path.suffix.lower() not in (".tfm", ".txt") or not proven_text_transform(path):
        check_in_child(path)
    failure = None
    with native_stderr() as diagnostics:  # HDF5 prints a long stack there
        try:
            transform = sitk.ReadTransform(str(path))
        except RuntimeError as error:
            failure = error
    if failure is not None:
        raise DicomRegError(f"cannot read '{path}' as an ITK transform "
                                 f"({' '.join(TRANSFORM_SUFFIXES)}): "
                                 f"{itk_reason(failure, diagnostics)}")
    if transform.GetDimension() != 3:
        raise DicomRegError(f"'{path}' holds a {transform.GetDimension()}-D transform; "
                                 "expected 3-D")
    _check_text_parameters(path, _stored(transform))
    return transform_as_deformation(transform, grid, str(path))


def _stored(transform: object) -> list:
    """The parts of a composite transform in the order they were added (or the transform)."""
    import SimpleITK as sitk

    if transform.GetName() == "CompositeTransform":
        composite = sitk.CompositeTransform(transform)
        return [composite.GetNthTransform(i) for i in range(composite.GetNumberOfTransforms())]
    return [transform]


def transform_as_deformation(transform: object, grid: Geometry | None = None,
                             source: str = "the transform") -> LoadedDeformation:
    """A SimpleITK transform (fixed point -> moving point) as a REG's grid and matrices, as
    :func:`read_transform_file` turns the transform of a file (see the module documentation).

    Parameters
    ----------
    transform
        A 3-D SimpleITK transform with a deformable part, composite or not.
    grid
        The fixed image's grid, on which a B-spline or other deformable part is sampled.
    source
        What the transform is, for messages and the image's ``source``.
    """
    applied = list(reversed(_stored(transform)))  # the last added is applied first
    deformable = [i for i, t in enumerate(applied) if not t.IsLinear()]
    if not deformable:
        raise DicomRegError(f"'{source}' holds only linear transforms: that is a rigid "
                                 "or affine registration, a Spatial Registration object "
                                 "rather than a deformable one")
    return _as_registration(source, applied, deformable[0], deformable[-1], grid)


def _as_registration(path: str, applied: list, first: int, last: int,
                     grid: Geometry | None) -> TransformRegistration:
    """Pre = the linear parts before ``first``, Post those after ``last``, and the grid
    D(p) = u(Pre p) of the parts between (see the module documentation)."""
    import SimpleITK as sitk

    pre = _IDENTITY.copy()
    for linear in applied[:first]:
        pre = linear_transform_matrix(linear) @ pre
    post = _IDENTITY.copy()
    for linear in applied[last + 1 :]:
        post = linear_transform_matrix(linear) @ post
    middle = applied[first : last + 1]
    rigid_pre = np.allclose(pre, _IDENTITY) or classify_matrix(pre) == "RIGID"
    if len(middle) == 1 and middle[0].GetName() == "DisplacementFieldTransform" and rigid_pre:
        field_image = sitk.DisplacementFieldTransform(middle[0]).GetDisplacementField()
        own = Geometry.from_itk(field_image.GetSize(), field_image.GetSpacing(),
                                field_image.GetOrigin(), field_image.GetDirection())
        vectors = sitk.GetArrayFromImage(field_image).astype(np.float32)
        if np.allclose(pre, _IDENTITY):
            return LoadedDeformation(Image(vectors, own, source=str(path)), pre, post,
                                     ["the displacement field transform keeps its own grid"],
                                     has_matrices=True)
        return LoadedDeformation(
            Image(vectors, _carried_back(own, pre), source=str(path)), pre, post,
            ["the displacement field transform keeps its vectors, on its grid carried back by "
             "the inverse of the pre-deformation matrix (D(p) = u(Pre p))"], has_matrices=True)
    if grid is None:
        raise DicomRegError(f"'{path}' holds a {middle[0].GetName()}, which is sampled on "
                                 "the fixed image's grid: give the fixed image (--fixed)")
    names = " and ".join(t.GetName() for t in middle)
    where = "" if np.allclose(pre, _IDENTITY) else (
        ", at the points the pre-deformation matrix sends it to (D(p) = u(Pre p))")
    return LoadedDeformation(Image(_sample(middle, pre, grid), grid, source=str(path)),
                             pre, post, [f"the {names} was sampled on the fixed image's "
                                         f"grid{where}"], has_matrices=True)
