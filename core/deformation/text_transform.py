"""An ITK text transform file (.tfm, .txt) checked by its own words before ITK reads it.

ITK's text reader sets each transform's parameters from the numbers listed, without
comparing their count with what the transform has: a shorter list corrupts the heap (an
``Euler3DTransform`` with two parameters aborts the process), and a B-spline or displacement
field's grid is allocated as its fixed parameters claim (a 100000^3 grid aborts too). So
each transform of the file is checked here: its kind 3-D, and its count of parameters the
one the kind has (asked of SimpleITK itself), a grid's size within the field size limit.
A file whose every transform is of a kind known here is proven; any other kind is left to
:func:`~dicomreg.core.deformation.transform_probe.check_in_child`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from dicomreg.core.errors import DicomRegError
from dicomreg.core.input import check_field_size

__all__ = ["TextTransformError", "proven_text_transform"]

_KIND = re.compile(r"(?P<base>[A-Za-z0-9]+)_(double|float)_3_3")
_LARGEST_TEXT = 1 << 30  # a larger text transform is left to the bounded child
_GRID_KINDS = ("BSplineTransform", "DisplacementFieldTransform")
_GRID_FIXED = 18  # a grid's size, origin, spacing (three each) and direction (nine)


class TextTransformError(DicomRegError):
    """A text transform whose words do not make the transform they name; says why."""


def _linear_kinds() -> dict[str, Callable[[], object]]:
    import SimpleITK as sitk

    return {"Euler3DTransform": sitk.Euler3DTransform,
            "AffineTransform": lambda: sitk.AffineTransform(3),
            "VersorRigid3DTransform": sitk.VersorRigid3DTransform,
            "Similarity3DTransform": sitk.Similarity3DTransform,
            "ScaleTransform": lambda: sitk.ScaleTransform(3),
            "TranslationTransform": lambda: sitk.TranslationTransform(3),
            "ScaleVersor3DTransform": sitk.ScaleVersor3DTransform,
            "ScaleSkewVersor3DTransform": sitk.ScaleSkewVersor3DTransform,
            "ComposeScaleSkewVersor3DTransform": sitk.ComposeScaleSkewVersor3DTransform,
            "IdentityTransform": lambda: sitk.Transform(3, sitk.sitkIdentity)}


def _blocks(path: Path) -> list[dict]:
    """Each ``Transform:`` with the words of its ``Parameters`` and ``FixedParameters``."""
    blocks: list[dict] = []
    with open(path, encoding="latin-1") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "Transform":
                blocks.append({"kind": value.strip()})
            elif key in ("Parameters", "FixedParameters") and blocks:
                blocks[-1][key] = value.split()
    return blocks


def _grid_count(path: Path, words: list[str], what: str) -> int:
    """The parameters a grid of the three sizes ``words`` holds (three per point)."""
    try:
        grid = [float(w) for w in words[:3]]
    except ValueError:
        grid = []
    if len(grid) != 3 or not all(g >= 1 and g == int(g) and g < 1e9 for g in grid):
        raise TextTransformError(f"'{path}': its {what} grid size {words[:3]} is not three "
                                 "positive whole numbers")
    count = int(grid[0]) * int(grid[1]) * int(grid[2]) * 3
    check_field_size(path, count * 8)
    return count


def _wanted(path: Path, kind: str, fixed: list[str], linear: dict) -> int | None:
    """The parameters a transform of ``kind`` has; None for a kind not known here."""
    if kind == "BSplineTransform":
        return _grid_count(path, fixed, "B-spline")
    if kind == "DisplacementFieldTransform":
        return _grid_count(path, fixed, "displacement field")
    if kind in linear:
        return len(linear[kind]().GetParameters())
    return None


def proven_text_transform(path: str | Path) -> bool:
    """Whether the text transform at ``path`` is proven safe for ITK's reader: True when
    every transform is of a kind known here with the parameters it has; False when one is
    not known (or the file is too large to read here), for the bounded child to try.

    Raises
    ------
    TextTransformError
        If a transform's parameters are not as many as its kind has, or a grid is not three
        positive whole numbers.
    InputLimitError
        If a grid's parameters are beyond the field size limit.
    """
    path = Path(path)
    if path.stat().st_size > _LARGEST_TEXT:
        return False
    linear = _linear_kinds()
    proven = True
    # Numbered as ITK reads them: the composite's own line is no transform of its own.
    blocks = [b for b in _blocks(path) if not b["kind"].startswith("CompositeTransform")]
    for number, block in enumerate(blocks):
        match = _KIND.fullmatch(block["kind"])
        if match is None:
            proven = False
            continue
        fixed = block.get("FixedParameters", [])
        if match["base"] in _GRID_KINDS and len(fixed) != _GRID_FIXED:
            raise TextTransformError(
                f"'{path}': transform {number} ({block['kind']}) lists {len(fixed)} fixed "
                f"parameters where it has {_GRID_FIXED} (a truncated or damaged file); "
                "expected the file as ITK wrote it")
        wanted = _wanted(path, match["base"], fixed, linear)
        listed = len(block.get("Parameters", []))
        if wanted is None:
            proven = False
        elif listed != wanted:
            raise TextTransformError(
                f"'{path}': transform {number} ({block['kind']}) lists {listed} parameters "
                f"where it has {wanted} (a truncated or damaged file); expected the file as "
                "ITK wrote it")
    return proven
