"""``dicomreg run`` and ``dicomreg editor``: flows, headless or in the Ryven editor.

The command line finds them through the entry points of the group ``dicomreg.commands``
(pyproject.toml), which name the two ``add_*_parser`` functions. This module imports no
Ryven and no Qt before a command runs: every ``dicomreg`` invocation loads it to list them,
and without Ryven each says what to install.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dicomreg.core.errors import DicomRegError

__all__ = ["add_editor_parser", "add_run_parser", "editor", "run"]

_DISTRIBUTION = "ryven-dicomreg"
# The top-level modules each command needs from its extra; a missing one is named, with the
# extra to install, instead of a traceback.
_FLOWS_MODULES = {"ryven", "ryvencore", "ryvencore_qt"}
_GUI_MODULES = _FLOWS_MODULES | {"qtpy", "PySide6", "shiboken6"}


def add_run_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``run`` to the command line."""
    parser = subparsers.add_parser(
        "run", help="run a flow headless (inherit, then save)",
        description="Run a saved flow without the editor: every source node reads its files, "
        "each DicomREGSave node inherits, references and saves. Needs the flows extra "
        f"(pip install '{_DISTRIBUTION}[flows]').")
    parser.add_argument("flow", help="a flow file saved by the editor or by dicomreg")
    parser.add_argument("--set", action="append", default=[], metavar="NODE.FIELD=VALUE",
                        help="set a node's field or setting first, e.g. "
                        "DicomREGSave.contentLabel=DIR_CT or DicomImport#2.directory=data/ct2")
    parser.add_argument("--no-dciodvfy", action="store_true", help="do not run dciodvfy")
    parser.set_defaults(runner=run, reads_dicom=True)


def add_editor_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``editor`` to the command line."""
    parser = subparsers.add_parser(
        "editor", help="open the Ryven editor with the dicomreg nodes",
        description="Open the Ryven editor (PySide6) with the dicomreg node package loaded, "
        f"and FLOW if given. Needs the gui extra (pip install '{_DISTRIBUTION}[gui]').")
    parser.add_argument("flow", nargs="?", help="a flow file to open (a new flow when not "
                        "given)")
    parser.set_defaults(runner=editor)


@contextmanager
def _needs(extra: str, modules: set[str]) -> Iterator[None]:
    """A missing module of ``modules`` (or Qt's bindings, which qtpy reports without a module
    name) becomes one line naming the extra to install; any other is left to propagate."""
    try:
        yield
    except ImportError as error:
        missing = (error.name or "").partition(".")[0]
        if missing and missing not in modules:
            raise
        reason = f"needs {missing}, which is not installed" if missing else str(error)
        hint = f"{reason}: pip install '{_DISTRIBUTION}[{extra}]'"
        running = tuple(sys.version_info[:2])
        if running >= (3, 13):  # Ryven declares Requires-Python <3.13
            hint += f" (Ryven needs Python < 3.13; this is Python {running[0]}.{running[1]})"
        raise DicomRegError(hint) from None


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

    with _needs("flows", _FLOWS_MODULES):
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
    with _needs("gui", _GUI_MODULES):
        from qtpy.QtWidgets import QApplication
        from ryven import run_ryven

        from .base import set_flow_directory
    from .flows import PACKAGE_DIRECTORY, load_flow

    project = None
    if args.flow:
        path = Path(args.flow).resolve()
        project = load_flow(path)  # refuses a harmful flow before Ryven unpickles anything
        set_flow_directory(path.parent)

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
