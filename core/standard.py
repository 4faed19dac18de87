"""Attribute Types of the Deformable Spatial Registration IOD, from highdicom's standard tables.

highdicom ships the standard's module tables as package data (``highdicom/_standard``): for
each IOD its modules with their usage, for each module its attributes with Type (1, 1C, 2, 2C,
3) and sequence path. They are private files of highdicom, so the dependency is pinned to the
minor version we test and a test checks that the lookup still works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["IOD_KEY", "AttributeRequirement", "iod_requirements"]

IOD_KEY = "deformable-spatial-registration"


@dataclass(frozen=True)
class AttributeRequirement:
    """One attribute of one module of the IOD."""

    module: str
    module_usage: str  # M (mandatory), C (conditional), U (user option)
    keyword: str
    type: str  # 1, 1C, 2, 2C, 3
    path: tuple[str, ...]  # enclosing sequence keywords, outermost first


def _table(name: str) -> object:
    text = resources.files("highdicom").joinpath("_standard", name).read_text("utf-8")
    return json.loads(text)


@cache
def iod_requirements(iod_key: str = IOD_KEY) -> tuple[AttributeRequirement, ...]:
    """Every attribute of every module of the IOD, with its Type and sequence path."""
    modules = _table("iod_module_map.json")[iod_key]  # type: ignore[index]
    attributes = _table("module_attribute_map.json")
    out = []
    for module in modules:
        for attribute in attributes[module["key"]]:  # type: ignore[index]
            out.append(
                AttributeRequirement(
                    module=module["key"],
                    module_usage=module["usage"],
                    keyword=attribute["keyword"],
                    type=attribute["type"],
                    path=tuple(attribute["path"]),
                )
            )
    return tuple(out)
