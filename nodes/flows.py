"""Flows: loading them safely, running them headless, saving them portably.

A Ryven project pickles node states. Plain Ryven unpickles whatever a project holds, so
opening an untrusted flow can run code. Here a flow is data: before anything is unpickled,
:func:`check_flow` reads every pickle in it statically (``pickletools``, nothing executed)
and refuses one that would import or call anything, or a node type not of this package.

A flow saved here names the node package by name, not by the saving machine's path, and
keeps paths relative to the flow file; :func:`load_flow` finds the package where dicomreg is
installed or checked out.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import pickletools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dicomreg.core.errors import DicomRegError

__all__ = ["PACKAGE_DIRECTORY", "PACKAGE_NAME", "FlowError", "check_flow", "execute",
           "load_flow", "new_session", "node_package", "project_of", "register", "run_flow",
           "save_flow"]

PACKAGE_DIRECTORY = Path(__file__).resolve().parent / "ryven_package" / "dicomreg_nodes"
PACKAGE_NAME = PACKAGE_DIRECTORY.name
# Keys under which ryvencore, ryvencore_qt and Ryven store pickles (base64).
_PICKLED_KEYS = {"state data", "serialized", "widget data", "main widget data"}
# Opcodes of plain data: containers, numbers, strings, bytes, True/False/None, memo.
_PLAIN_OPCODES = {
    "PROTO", "FRAME", "STOP", "MARK", "POP", "POP_MARK", "DUP", "MEMOIZE", "PUT", "BINPUT",
    "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET", "NONE", "NEWTRUE", "NEWFALSE", "INT",
    "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT", "STRING",
    "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
    "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "EMPTY_LIST",
    "APPEND", "APPENDS", "LIST", "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
    "EMPTY_DICT", "DICT", "SETITEM", "SETITEMS", "EMPTY_SET", "ADDITEMS", "FROZENSET",
}


class FlowError(DicomRegError):
    """A flow that is refused or cannot be run; the message says why."""


def _pickles(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{where}/{key}"
            if key in _PICKLED_KEYS and isinstance(inner, str):
                yield path, inner
            else:
                yield from _pickles(inner, path)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _pickles(inner, f"{where}[{index}]")


def _plain_pickle_problem(text: str) -> str | None:
    """Why a base64 pickle is not plain data, or None; the pickle is read, never run."""
    try:
        data = base64.b64decode(text, validate=True)
        opcodes = [op.name for op, _arg, _pos in pickletools.genops(data)]
    except (binascii.Error, ValueError) as error:
        return f"not a readable pickle ({error})"
    foreign = sorted(set(opcodes) - _PLAIN_OPCODES)
    return f"it would import or call code ({', '.join(foreign)})" if foreign else None


def _nodes(project: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for flow in (project.get("flows") or {}).values():
        yield from flow.get("nodes", []) if isinstance(flow, dict) else []


def check_flow(project: dict[str, Any]) -> None:
    """Refuse a flow that would do anything but rebuild this package's nodes.

    Raises
    ------
    FlowError
        Naming the first offending node or pickle.
    """
    if not isinstance(project, dict) or not isinstance(project.get("flows"), dict):
        raise FlowError("not a Ryven project: it has no 'flows'")
    for node in _nodes(project):
        identifier = str(node.get("identifier", ""))
        if not identifier.startswith(f"{PACKAGE_NAME}."):
            raise FlowError(f"node {identifier!r} is not of the dicomreg node package; "
                            "only dicomreg flows are run here")
    for where, text in _pickles(project):
        problem = _plain_pickle_problem(text)
        if problem:
            raise FlowError(f"refused: the pickle at {where} is not plain data: {problem}")


def load_flow(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A flow file's project, checked (:func:`check_flow`), with the package found here."""
    path = Path(path)
    try:
        project = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FlowError(f"flow file '{path}' does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FlowError(f"flow file '{path}' is not a Ryven project (JSON): {error}") from None
    check_flow(project)
    project["required packages"] = [
        p for p in project.get("required packages", []) if p.get("name") != PACKAGE_NAME
    ] + [{"name": PACKAGE_NAME, "dir": str(PACKAGE_DIRECTORY)}]
    return project


_LOADED: dict[bool, tuple[list, list]] = {}


def node_package(gui: bool = False) -> tuple[list, list]:
    """The package's node and data types, through Ryven's loader (headless or with GUIs).

    Ryven's loader imports a package's entry module once per process and returns nothing
    the second time (pitfall 2); the entry is forgotten first, so that a GUI load after a
    headless one (the editor's tests) gets the types too.
    """
    if gui not in _LOADED:
        os.environ["RYVEN_MODE"] = "gui" if gui else "no-gui"
        if gui:
            from ryven.main.config import Config

            Config()  # the GUI loader reads Ryven's configuration
        sys.modules.pop(f"{PACKAGE_NAME}.nodes", None)
        from ryven import NodesPackage, import_nodes_package

        _LOADED[gui] = import_nodes_package(NodesPackage(str(PACKAGE_DIRECTORY)))
    return _LOADED[gui]


def register(session: Any, gui: bool = False) -> Any:
    """Register the package's types with a ryvencore session (headless or an editor's)."""
    import ryvencore as rc

    rc.InfoMsgs.enable_errors()  # Ryven drops exceptions in update_event otherwise
    node_types, data_types = node_package(gui)
    for node_type in node_types:
        # Registering prefixes the identifier again in each session (pitfall 1).
        node_type.identifier = node_type.__name__
    session.register_data_types(data_types)
    session.register_node_types(node_types)
    return session


def new_session() -> Any:
    """A headless ryvencore session with this package registered."""
    import ryvencore as rc

    return register(rc.Session(gui=False, load_addons=True))


def project_of(session: Any) -> dict[str, Any]:
    """The session as a portable Ryven project (package by name, widgetless inputs)."""
    import ryven

    data = session.serialize()
    placed = {node.global_id: node.position for flow in session.flows
              for node in flow.nodes if getattr(node, "position", None)}
    for flow in data.get("flows", {}).values():
        for node in flow.get("nodes", []):
            if node.get("GID") in placed:  # where the editor draws the node
                node["pos x"], node["pos y"] = placed[node["GID"]]
            for port in node.get("inputs", []):
                # A flow saved headless opens in the editor only if each input says whether
                # it has a widget (pitfall 6); ours have none.
                port.setdefault("has widget", False)
    return {"general info": {"type": "Ryven project file",
                             "ryven version": getattr(ryven, "__version__", "3.5.0")},
            "required packages": [{"name": PACKAGE_NAME, "dir": PACKAGE_NAME}], **data}


def save_flow(session: Any, path: str | os.PathLike[str]) -> Path:
    """Write the session as a flow file, atomically."""
    from dicomreg.core.atomic import RYVEN_PROJECT, atomic_output

    path = Path(path)
    with atomic_output(path, replaces=RYVEN_PROJECT) as temporary:
        temporary.write_text(json.dumps(project_of(session), indent=2), encoding="utf-8")
    return path


def _find(nodes: list, name: str) -> Any:
    """A node by title, or title#N for the N-th (from 1) of that title."""
    title, _, number = name.partition("#")
    matching = [n for n in nodes if n.title == title]
    index = int(number) - 1 if number.isdigit() else 0
    if not matching or not 0 <= index < len(matching):
        titles = sorted({n.title for n in nodes})
        raise FlowError(f"the flow has no node {name!r}; its nodes: {', '.join(titles)}")
    return matching[index]


def execute(flows: list, settings: dict[str, str] | None = None
            ) -> tuple[list[str], list[str], list[str]]:
    """Run loaded flows: settings first, then every source node reads its files, and each
    DicomREGSave node inherits, references and saves. Returns the written files, the errors
    (``NODE: message``) and the tag dumps of the TagDump nodes."""
    written, errors, dumps = [], [], []
    for flow in flows:
        flow.set_algorithm_mode(flow.algorithm_mode())  # pitfall 7
        nodes = list(flow.nodes)
        for name, value in (settings or {}).items():
            node_name, _, setting = name.rpartition(".")
            if not node_name:
                raise FlowError(f"--set {name}={value}: expected NODE.FIELD=VALUE")
            node = _find(nodes, node_name)
            node.set_setting(setting, value)
            if node.error:
                raise FlowError(f"--set {name}={value}: {node.error}")
        # Sources first (nodes with no input connected); the data flow updates the rest.
        for node in nodes:
            if not any(flow.connected_output(port) is not None for port in node.inputs):
                node.update()
        for node in nodes:
            if node.title == "DicomREGSave":
                result = node.run()
                if result:
                    written.append(result)
        errors += [f"{node.title}: {node.error}" for node in nodes if node.error]
        dumps += [node.dump for node in nodes if node.title == "TagDump" and node.dump]
    return written, errors, dumps


def run_flow(path: str | os.PathLike[str], settings: dict[str, str] | None = None
             ) -> tuple[list[str], list[str], list[str]]:
    """Load a flow file (checked) and :func:`execute` it headless."""
    from .base import set_flow_directory

    path = Path(path).resolve()
    project = load_flow(path)
    set_flow_directory(path.parent)
    return execute(new_session().load(project), settings)
