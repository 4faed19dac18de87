"""Attribute Types of the Deformable Spatial Registration IOD, from highdicom's standard tables.

highdicom ships the standard's module tables as package data (``highdicom/_standard``): for
each IOD its modules with their usage, for each module its attributes with Type (1, 1C, 2, 2C,
3) and sequence path. They are private files of highdicom, so the dependency is pinned to the
minor version we test and a test checks that the lookup still works.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

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


def _table_path(name: str) -> Path:
    # find_spec locates the package without importing it: importing highdicom would load
    # its SR code dictionaries (about 100 MB) for nothing but these JSON files.
    spec = importlib.util.find_spec("highdicom")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("highdicom is not installed; its standard tables are needed")
    return Path(next(iter(spec.submodule_search_locations))) / "_standard" / name


def _table_text(name: str) -> str:
    return _table_path(name).read_text("utf-8")


def _table(name: str) -> object:
    return json.loads(_table_text(name))


def _module_attributes(text: str, key: str) -> list[dict]:
    """One module's list from the 22 MB module table, decoded alone: decoding the whole
    table would hold about 90 MB of objects for the 15 modules this IOD needs."""
    at = text.find(json.dumps(key) + ":")
    if at < 0:
        raise KeyError(f"module {key!r} is not in highdicom's module table")
    start = text.index("[", at)
    return json.JSONDecoder().raw_decode(text, start)[0]


_SOURCES = ("iod_module_map.json", "module_attribute_map.json")


def _requirements_cache(iod_key: str) -> Path | None:
    """Where the derived requirements are kept between processes (~/.cache/dicomreg), named
    after the tables they derive from (size and modification time of each: another highdicom
    brings other tables; a stat is cheaper than asking the installed metadata its version)."""
    try:
        stamps = [_table_path(name).stat() for name in _SOURCES]
    except (RuntimeError, OSError):
        return None
    stamp = "-".join(f"{s.st_size}.{s.st_mtime_ns}" for s in stamps)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "dicomreg" / f"requirements-{iod_key}-{stamp}.json"


def _derive_requirements(iod_key: str) -> list[AttributeRequirement]:
    modules = _table(_SOURCES[0])[iod_key]
    text = _table_text(_SOURCES[1])
    out = []
    for module in modules:
        for attribute in _module_attributes(text, module["key"]):
            out.append(
                AttributeRequirement(
                    module=module["key"],
                    module_usage=module["usage"],
                    keyword=attribute["keyword"],
                    type=attribute["type"],
                    path=tuple(attribute["path"]),
                )
            )
    return out


@cache
def iod_requirements(iod_key: str = IOD_KEY) -> tuple[AttributeRequirement, ...]:
    """Every attribute of every module of the IOD, with its Type and sequence path.

    Deriving them reads highdicom's 22 MB table (about 0.07 s); the result (a few hundred
    kB) is kept in the user's cache directory, per version of the tables, for the next
    process.
    An unreadable or unwritable cache only costs that time again.
    """
    cached = _requirements_cache(iod_key)
    if cached is not None:
        try:
            rows = json.loads(cached.read_text("utf-8"))
            return tuple(AttributeRequirement(*row[:4], tuple(row[4])) for row in rows)
        except (OSError, ValueError, TypeError, IndexError):
            pass
    requirements = tuple(_derive_requirements(iod_key))
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps([[r.module, r.module_usage, r.keyword, r.type,
                                              list(r.path)] for r in requirements]), "utf-8")
            os.replace(temporary, cached)
        except OSError:
            pass
    return requirements


@cache
def _anatomic_regions() -> dict[str, list]:
    return _table("anatomic_regions.json")


def body_part_is_paired(body_part: str) -> bool | None:
    """Whether a Body Part Examined term names a paired structure (KNEE, LUNG, EYE ...).

    From the PS3.16 Annex L correspondence table as highdicom ships it. None for a term the
    table does not know.
    """
    entry = _anatomic_regions().get(body_part.strip().upper())
    return None if entry is None else bool(entry[3])
