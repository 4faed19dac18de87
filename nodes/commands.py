"""``dicomreg run`` and ``dicomreg editor``: flows, headless or in the Ryven editor."""

from __future__ import annotations

import argparse
import os
import sys
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
    for error in errors:
        print(f"dicomreg run: error: {error}", file=sys.stderr)
    if not written and not errors and not dumps:
        print("the flow wrote nothing (no DicomREGSave node with a fileName)")
    return 1 if errors else status


def editor(args: argparse.Namespace) -> int:
    """Open the Ryven editor (PySide6) with the node package, and the flow if given."""
    os.environ.setdefault("QT_API", "pyside6")
    os.environ["RYVEN_MODE"] = "gui"
    from .base import set_flow_directory
    from .flows import PACKAGE_DIRECTORY, load_flow

    project = None
    if args.flow:
        path = Path(args.flow).resolve()
        project = load_flow(path)  # refuses a harmful flow before Ryven unpickles anything
        set_flow_directory(path.parent)
    from qtpy.QtWidgets import QApplication
    from ryven import run_ryven

    app = QApplication.instance() or QApplication(sys.argv[:1])
    # `ryven -n PATH` crashes in 3.5.0; run_ryven with nodes=[...] does not. The checked
    # project is handed over as a file of its own, with the package found here.
    if project is not None:
        import json
        import tempfile

        checked = Path(tempfile.mkdtemp()) / Path(args.flow).name
        checked.write_text(json.dumps(project), encoding="utf-8")
        project_arg = [str(checked)]
    else:
        project_arg = []
    window = run_ryven(*project_arg, qt_app=app, use_sysargs=False, show_dialog=False,
                       qt_api="pyside6", nodes=[str(PACKAGE_DIRECTORY)])
    if window is None:  # Ryven said why on stderr (a missing package, say)
        return 1
    # Given an application, Ryven returns its window and leaves the event loop to us.
    return int(app.exec())
