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
from dicomreg.core.paths import resolve_path

__all__ = ["DicomNode", "flow_directory", "set_flow_directory"]

_FLOW_DIRECTORY: Path | None = None


def set_flow_directory(directory: str | os.PathLike[str] | None) -> None:
    """Where the flow being run or edited lives: relative paths in nodes resolve against it."""
    global _FLOW_DIRECTORY
    _FLOW_DIRECTORY = Path(directory).resolve() if directory else None


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
        self.settings[name] = kind(value) if kind in (int, float) else value

    def resolve(self, text: str) -> Path:
        """A path setting, relative to the flow (see :func:`~dicomreg.core.paths.resolve_path`)."""
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
