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

__all__ = ["IOD_KEY", "AttributeRequirement", "body_part_is_paired", "iod_requirements"]

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


@cache
def _anatomic_regions() -> dict[str, list]:
    return _table("anatomic_regions.json")  # type: ignore[return-value]


def body_part_is_paired(body_part: str) -> bool | None:
    """Whether a Body Part Examined term names a paired structure (KNEE, LUNG, EYE ...).

    From the PS3.16 Annex L correspondence table as highdicom ships it. None for a term the
    table does not know.
    """
    entry = _anatomic_regions().get(body_part.strip().upper())
    return None if entry is None else bool(entry[3])
