"""A batch's outputs against every file it reads, before any case runs.

Cases run in parallel, so a row whose output is another row's input (its field, its modifiers
file, a slice of its series) would destroy that input, or hand the other row a file being
replaced. The manifest and the results file are never outputs either. Paths are compared
resolved (``..`` and symbolic links followed) and by file identity (hard links), and every
file inside an input directory counts as an input.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

__all__ = ["path_conflicts"]

_INPUT_COLUMNS = (("field", "field file"), ("modifiers", "modifiers file"),
                  ("fixed", "--fixed"), ("moving", "--moving"))


class _Row(Protocol):
    number: int
    field: str
    output: str
    fixed: str
    moving: str
    modifiers: str


def _resolve(base: Path, text: str) -> Path:
    """As ``dicomreg save`` resolves a row's path, then with links and ``..`` followed."""
    return (base / Path(text).expanduser()).resolve()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _files_under(directory: Path) -> Iterator[Path]:
    for folder, _subfolders, names in os.walk(directory):
        for name in names:
            yield Path(folder) / name


class _Inputs:
    """Every file the batch reads, by resolved path and by identity, with what it is."""

    def __init__(self) -> None:
        self.by_path: dict[Path, str] = {}
        self.by_identity: dict[tuple[int, int], str] = {}
        self._walked: dict[Path, list[Path]] = {}

    def add(self, path: Path, what: str) -> None:
        self.by_path.setdefault(path, what)
        identity = _identity(path)
        if identity is not None:
            self.by_identity.setdefault(identity, what)
        if path.is_dir():
            if path not in self._walked:  # a series shared by many rows is walked once
                self._walked[path] = list(_files_under(path))
            for inner in self._walked[path]:
                self.add(inner, f"{what} file '{inner}'")

    def which(self, path: Path) -> str | None:
        """What ``path`` is among the inputs, or None."""
        if path in self.by_path:
            return self.by_path[path]
        identity = _identity(path)
        return self.by_identity.get(identity) if identity is not None else None


def path_conflicts(cases: list[_Row], manifest: Path, results: Path) -> list[str]:
    """One line per output that is an input, the manifest, the results or another output."""
    base = manifest.parent
    inputs = _Inputs()
    inputs.add(manifest.resolve(), "the manifest")
    for case in cases:
        for column, what in _INPUT_COLUMNS:
            value = getattr(case, column)
            if value and "\0" not in value:
                inputs.add(_resolve(base, value), f"row {case.number}'s {what}")
    conflicts = []
    results = results.resolve()
    if inputs.which(results):
        conflicts.append(f"--results '{results}' is {inputs.which(results)}")
    written: dict[Path, int] = {}
    for case in cases:
        if not case.output or "\0" in case.output:
            continue  # refused by the case itself, alone
        output = _resolve(base, case.output)
        what = inputs.which(output)
        if what:
            conflicts.append(f"row {case.number}: output '{case.output}' is {what}")
        elif output == results:
            conflicts.append(f"row {case.number}: output '{case.output}' is the results file")
        elif output in written:
            conflicts.append(f"row {case.number}: output '{case.output}' is also written by "
                             f"row {written[output]}")
        written.setdefault(output, case.number)
    return conflicts
