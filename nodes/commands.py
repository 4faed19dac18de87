"""``dicomreg run`` and ``dicomreg editor``: flows, headless or in the Ryven editor."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from dicomreg.core.errors import DicomRegError

__all__ = ["editor", "run"]


def _settings(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or "." not in name:
            raise DicomRegError(f"--set {pair!r}: expected NODE.FIELD=VALUE, for example "
                                "--set DicomREGSave.contentLabel=DIR_CT")
        out[name.strip()] = value
    return out


def run(args: argparse.Namespace) -> int:
    """Run a flow headless, print what it wrote (and dciodvfy's verdict where installed)."""
    from dicomreg.core.reg import dciodvfy_available, print_dciodvfy, run_dciodvfy

    from .flows import run_flow

    written, errors, dumps = run_flow(args.flow, _settings(args.set))
    for dump in dumps:
        print(dump)
    status = 0
    for path in written:
        print(f"wrote {path}")
        if not args.no_dciodvfy and dciodvfy_available():
            result = run_dciodvfy(path)
            print_dciodvfy(result)
            status = max(status, 1 if result.errors else 0)
    if errors:
        # One line: the first failing node's reason (a source's, when a source failed); the
        # nodes it starved are only named.
        others = [error.split(":", 1)[0] for error in errors[1:]]
        more = f" (and {len(others)} more failed: {', '.join(others)})" if others else ""
        print(f"dicomreg run: error: {errors[0]}{more}", file=sys.stderr)
    if not written and not errors and not dumps:
        print("the flow wrote nothing (no DicomREGSave node with a fileName)")
    return 1 if errors else status


def editor(args: argparse.Namespace) -> int:
    """Open the Ryven editor (PySide6) with the node package, and the flow if given.

    The flow is read by :func:`~dicomreg.nodes.flows.load_flow`, which refuses a harmful one
    before Ryven unpickles or imports anything; Ryven is handed the checked copy, naming no
    package but this one.
    """
    os.environ.setdefault("QT_API", "pyside6")
    os.environ["RYVEN_MODE"] = "gui"
    from .base import set_flow_directory
    from .flows import PACKAGE_DIRECTORY, load_flow

    project = None
    if args.flow:
        path = Path(args.flow).resolve()
        project = load_flow(path)
        set_flow_directory(path.parent, path)
    from qtpy.QtWidgets import QApplication
    from ryven import run_ryven

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="dicomreg-editor-") as folder:
        # `ryven -n PATH` crashes in 3.5.0; run_ryven with nodes=[...] does not. Ryven reads a
        # project from a file only: the checked copy, read before run_ryven returns.
        project_arg = []
        if project is not None:
            checked = Path(folder) / Path(args.flow).name
            checked.write_text(json.dumps(project), encoding="utf-8")
            project_arg = [str(checked)]
        window = run_ryven(*project_arg, qt_app=app, use_sysargs=False, show_dialog=False,
                           qt_api="pyside6", nodes=[str(PACKAGE_DIRECTORY)])
    if window is None:  # Ryven said why on stderr (a missing package, say)
        return 1
    # Given an application, Ryven returns its window and leaves the event loop to us.
    return int(app.exec())
