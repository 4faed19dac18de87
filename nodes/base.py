"""What every dicomreg node shares: paths relative to the flow, and errors that show.

Ryven drops exceptions raised in ``update_event`` unless told otherwise; a node here catches
the user's mistakes (:class:`~dicomreg.core.errors.DicomRegError`) itself, keeps the message in
``error`` and puts it on its ``status`` output, so that the editor, ``dicomreg run`` and the
next node all see it. Anything else is a bug and is raised.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ryven.node_env import Data, Node

from dicomreg.core.errors import DicomRegError
from dicomreg.core.input import resolve_path

__all__ = ["DicomNode", "flow_directory", "flow_file", "set_flow_directory"]

_FLOW_DIRECTORY: Path | None = None
_FLOW_FILE: Path | None = None


def set_flow_directory(directory: str | os.PathLike[str] | None,
                       flow: str | os.PathLike[str] | None = None) -> None:
    """Where the flow being run or edited lives: relative paths in nodes resolve against it.

    ``flow`` is the flow file itself, which no node may write over.
    """
    global _FLOW_DIRECTORY, _FLOW_FILE
    _FLOW_DIRECTORY = Path(directory).resolve() if directory else None
    _FLOW_FILE = Path(flow).resolve() if flow else None


def flow_file() -> Path | None:
    """The flow file being run or edited, if it was read from one."""
    return _FLOW_FILE


def _kind_problem(name: str, value: Any, default: Any) -> str | None:
    """Why a saved setting is not of its default's type (an int is a float too), or None."""
    kinds = {bool: (bool,), int: (int,), float: (int, float)}.get(type(default),
                                                                   (type(default),))
    if isinstance(value, kinds) and (isinstance(value, bool) == isinstance(default, bool)):
        return None
    return f"setting {name!r} is {type(value).__name__}, expected {type(default).__name__}"


def flow_directory() -> Path:
    """The flow's directory, or the working directory for a flow not saved yet."""
    return _FLOW_DIRECTORY or Path.cwd()


class DicomNode(Node):
    """Base of the dicomreg nodes: settings kept as plain data, errors kept and shown."""

    version = "1"
    tags = ["DICOM", "registration"]
    #: index of the output that carries the status line, if the node has one
    status_output: int | None = None
    #: the node's settings and their defaults (paths and options; plain data)
    defaults: dict[str, Any] = {}

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        self.settings: dict[str, Any] = dict(self.defaults)
        self.error = ""
        self.status = ""

    # --- settings, saved with the flow ------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {"settings": dict(self.settings)}

    @classmethod
    def state_problem(cls, state: Any) -> str | None:
        """Why a saved state is not one :meth:`set_state` takes, or None (a flow is checked
        before it is loaded; unknown settings of another version are ignored on load)."""
        if not isinstance(state, dict) or set(state) - {"settings"}:
            return "is not a dict of 'settings'"
        settings = state.get("settings", {})
        if not isinstance(settings, dict):
            return "has settings that are not a dict"
        for name, value in settings.items():
            if name in cls.defaults:
                problem = _kind_problem(name, value, cls.defaults[name])
                if problem:
                    return problem
        return None

    def set_state(self, data: dict[str, Any], version: Any) -> None:
        saved = (data or {}).get("settings", {})
        self.settings.update({k: v for k, v in saved.items() if k in self.defaults})

    def set_setting(self, name: str, value: Any) -> None:
        """Change one setting (``dicomreg run --set NODE.NAME=VALUE``).

        It is stored only: a run updates every source afterwards, and a panel updates the
        node itself, so that several settings can change before the files are read again.
        """
        if name not in self.defaults:
            raise DicomRegError(f"{self.title} has no setting {name!r}; its settings are "
                                f"{', '.join(self.defaults)}")
        kind = type(self.defaults[name])
        if kind in (int, float):
            try:
                value = kind(value)
            except (TypeError, ValueError):
                raise DicomRegError(f"{self.title}.{name}: {value!r} is not "
                                    f"{'a whole number' if kind is int else 'a number'}") from None
        self.settings[name] = value

    def resolve(self, text: str) -> Path:
        """A path setting, relative to the flow (see :func:`~dicomreg.core.input.resolve_path`)."""
        return resolve_path(text, flow_directory())

    # --- errors -----------------------------------------------------------------------------

    def guarded(self, action: Callable[[], Any]) -> Any:
        """Run ``action``; a user's mistake becomes the node's error and status."""
        try:
            result = action()
        except DicomRegError as error:
            self.report(str(error), error=True)
            return None
        self.error = ""
        return result

    def report(self, text: str, error: bool = False) -> None:
        """Show a status line (and keep it as the node's error)."""
        self.status = f"error: {text}" if error else text
        if error:
            self.error = text
        if self.status_output is not None:
            self.set_output_val(self.status_output, Data(self.status))

    def payload(self, index: int) -> Any:
        """The payload at an input, or None."""
        data = self.input(index)
        return None if data is None else data.payload
