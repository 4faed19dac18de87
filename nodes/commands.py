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
from typing import Any

from dicomreg.core.errors import DicomRegError

__all__ = ["add_editor_parser", "add_run_parser", "display_problem", "editor", "run"]

_DISTRIBUTION = "ryven-dicomreg"
# The top-level modules each command needs from its extra; a missing one is named, with the
# extra to install, instead of a traceback.
_FLOWS_MODULES = {"ryven", "ryvencore", "ryvencore_qt"}
_GUI_MODULES = _FLOWS_MODULES | {"qtpy", "PySide6", "shiboken6"}
# What Qt's xcb platform (X11) loads besides what the offscreen one does: the library
# ctypes finds by the name, and the Debian/Ubuntu package that has it. Without one Qt aborts
# (exit 134) with a text of many lines.
_XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1", "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0", "xcb-shape": "libxcb-shape0",
    "xcb-xinerama": "libxcb-xinerama0", "xcb-randr": "libxcb-randr0",
    "xkbcommon-x11": "libxkbcommon-x11-0", "EGL": "libegl1", "fontconfig": "libfontconfig1",
}


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
    if errors:
        # One line: the first failing node's reason (a source's, when a source failed); the
        # nodes it starved are only named.
        others = [error.split(":", 1)[0] for error in errors[1:]]
        more = f" (and {len(others)} more failed: {', '.join(others)})" if others else ""
        print(f"dicomreg run: error: {errors[0]}{more}", file=sys.stderr)
    if not written and not errors and not dumps:
        print("the flow wrote nothing (no DicomREGSave node with a fileName)")
    return 1 if errors else status


def display_problem(environ: dict[str, str] | None = None,
                    find_library: Any = None) -> str | None:
    """Why Qt could not open a window here, as one line with the fix; None when it can.

    Checked before the QApplication exists, since Qt itself aborts (exit 134) with many
    lines when the display or a system library of its platform plugin is missing.
    """
    import ctypes.util

    environ = os.environ if environ is None else environ
    find_library = find_library or ctypes.util.find_library
    platform = environ.get("QT_QPA_PLATFORM", "").partition(":")[0]
    if not platform:
        platform = "wayland" if environ.get("WAYLAND_DISPLAY") and not environ.get(
            "DISPLAY") else "xcb"
    if platform == "wayland" and not environ.get("WAYLAND_DISPLAY"):
        return ("no Wayland display (QT_QPA_PLATFORM=wayland but WAYLAND_DISPLAY is not "
                "set): run it in a desktop session, or with QT_QPA_PLATFORM=xcb on X11")
    if platform != "xcb":
        return None  # offscreen, vnc, eglfs...: Qt's own business
    if not environ.get("DISPLAY"):
        return ("no display: DISPLAY (and WAYLAND_DISPLAY) is not set; run it in a desktop "
                "session, over ssh -X, or under Xvfb: xvfb-run -a dicomreg editor")
    missing = sorted({package for name, package in _XCB_LIBRARIES.items()
                      if not find_library(name)})
    if missing:
        return ("Qt's X11 platform needs system libraries that are missing: "
                f"apt-get install -y {' '.join(missing)}")
    return None


def editor(args: argparse.Namespace) -> int:
    """Open the Ryven editor (PySide6) with the node package, and the flow if given.

    The flow is read by :func:`~dicomreg.nodes.flows.load_flow`, which refuses a harmful one
    before Ryven unpickles or imports anything; Ryven is handed the checked copy, naming no
    package but this one.
    """
    os.environ.setdefault("QT_API", "pyside6")
    os.environ["RYVEN_MODE"] = "gui"
    with _needs("gui", _GUI_MODULES):
        import qtpy.QtWidgets  # noqa: F401 (a missing Qt binding is named first)
        import ryven  # noqa: F401
    problem = display_problem()
    if problem:
        raise DicomRegError(problem)
    from .editor_window import open_editor

    app, window = open_editor(args.flow)
    if window is None:  # Ryven said why on stderr (a missing package, say)
        return 1
    # Given an application, Ryven returns its window and leaves the event loop to us.
    return int(app.exec())
