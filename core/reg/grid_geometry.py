"""The one home of a REG grid's geometry rules: what ``validate`` reports and what ``read``,
``warp`` and ``map`` refuse before the grid reaches ITK (which refuses a zero spacing or a
singular direction with a many-line exception).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DIRECTION_TOLERANCE", "grid_geometry_problems"]

DIRECTION_TOLERANCE = 1e-4


def _floats(values: Any) -> list[float] | None:
    try:
        numbers = [float(v) for v in (values if isinstance(values, (list, tuple)) or hasattr(
            values, "__iter__") and not isinstance(values, (str, bytes)) else [values])]
    except (TypeError, ValueError):
        return None
    return numbers if all(np.isfinite(numbers)) else None


def grid_geometry_problems(grid: Any) -> list[tuple[str, str]]:
    """(keyword, what is wrong) for each of the grid item's geometry attributes that breaks
    its rule: Grid Dimensions three positive whole numbers, Grid Resolution three positive
    millimetres, Image Position three finite numbers, Image Orientation two orthogonal unit
    vectors. An absent attribute is not a problem here (its Type is checked elsewhere)."""
    problems = []
    dims = grid.get("GridDimensions")
    if dims is not None and (_floats(dims) is None or len(_floats(dims)) != 3
                             or min(_floats(dims)) < 1):
        problems.append(("GridDimensions", f"{list(dims)} must be three positive numbers "
                         "X, Y, Z"))
    resolution = grid.get("GridResolution")
    numbers = _floats(resolution) if resolution is not None else []
    if resolution is not None and (numbers is None or len(numbers) != 3
                                   or min(numbers) <= 0):
        problems.append(("GridResolution", f"{list(resolution)} must be three positive "
                         "millimetres"))
    position = grid.get("ImagePositionPatient")
    numbers = _floats(position) if position is not None else []
    if position is not None and (numbers is None or len(numbers) != 3):
        problems.append(("ImagePositionPatient", f"{list(position)} must be three finite "
                         "millimetres"))
    orientation = grid.get("ImageOrientationPatient")
    numbers = _floats(orientation) if orientation is not None else []
    if orientation is not None:
        o = np.asarray(numbers if numbers is not None else [])
        if o.size != 6:
            problems.append(("ImageOrientationPatient", f"has {o.size} finite values; must "
                             "have 6"))
        elif not (abs(np.linalg.norm(o[:3]) - 1) < DIRECTION_TOLERANCE
                  and abs(np.linalg.norm(o[3:]) - 1) < DIRECTION_TOLERANCE
                  and abs(np.dot(o[:3], o[3:])) < DIRECTION_TOLERANCE):
            problems.append(("ImageOrientationPatient",
                             "row and column directions must be orthogonal unit vectors"))
    return problems
