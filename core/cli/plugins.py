"""Commands that other packages add: the entry points of the group ``dicomreg.commands``.

Each entry point is named after its command and names a function ``add_parser(subparsers)``
that adds it as this package's command modules do (see :mod:`dicomreg.core.cli.main`). Its
module should be light to import: every ``dicomreg`` invocation loads it to list the
command. One that cannot be imported (an optional dependency missing) is listed all the
same, and running it says, in one line, what to install.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Collection
from functools import partial
from typing import TYPE_CHECKING

from dicomreg.core.errors import DicomRegError

if TYPE_CHECKING:  # imported where used: a built-in command needs no plugin (see main)
    from importlib import metadata

__all__ = ["GROUP", "add_plugin_commands", "install_hint", "plugin_entry_points"]

GROUP = "dicomreg.commands"


def plugin_entry_points() -> list[metadata.EntryPoint]:
    """The installed entry points of :data:`GROUP`, in their distributions' order."""
    from importlib import metadata

    return list(metadata.entry_points(group=GROUP))


def add_plugin_commands(subparsers: argparse._SubParsersAction,
                        taken: Collection[str]) -> None:
    """Add every installed plugin command whose name is not ``taken`` (by a built-in one)."""
    for entry_point in plugin_entry_points():
        if entry_point.name in taken:
            continue
        try:
            add_parser = entry_point.load()
        except ImportError as error:
            _add_stand_in(subparsers, entry_point.name, install_hint(entry_point, error))
        else:
            add_parser(subparsers)


def _add_stand_in(subparsers: argparse._SubParsersAction, name: str, hint: str) -> None:
    parser = subparsers.add_parser(name, help=f"(not installed) {hint}",
                                   description=f"Not installed: {hint}.")
    # Whatever was given for the real command, the answer is what to install.
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.set_defaults(runner=partial(_refuse, hint))


def _refuse(hint: str, args: argparse.Namespace) -> int:
    raise DicomRegError(hint)


def install_hint(entry_point: metadata.EntryPoint, error: ImportError) -> str:
    """What to install for a command whose module failed to import with ``error``: the
    extra of the command's distribution that requires the missing module, when one does."""
    missing = (error.name or "").partition(".")[0]
    distribution = entry_point.dist
    if not missing or distribution is None:
        return f"cannot import {entry_point.value} ({error})"
    requirement = _requirement_in_extra(distribution, missing)
    extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement or "")
    target = f"'{distribution.name}[{extra.group(1)}]'" if extra else missing
    return (f"needs the module {missing}, which is not installed: pip install {target}"
            + _python_note(requirement or "", target))


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_in_extra(distribution: metadata.Distribution, module: str) -> str | None:
    """The distribution's requirement of ``module`` under one of its extras, if any."""
    for requirement in distribution.requires or ():
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        if name and "extra" in requirement and _normalized(name.group()) == _normalized(module):
            return requirement
    return None


def _python_note(requirement: str, target: str) -> str:
    """Where the requirement's marker excludes this Python, say so: pip installs nothing."""
    running = tuple(sys.version_info[:2])
    for bound in re.findall(r"""python_version\s*<\s*["'](\d+)\.(\d+)["']""", requirement):
        limit = tuple(int(part) for part in bound)
        if running >= limit:
            return (f" ({target} needs Python < {limit[0]}.{limit[1]}; this is Python "
                    f"{running[0]}.{running[1]})")
    return ""
