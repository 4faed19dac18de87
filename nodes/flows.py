"""Flows: loading them safely, running them headless, saving them portably.

A flow is data: :func:`load_flow` reads a flow file with JSON's limits kept (depth, number
size), has :func:`~dicomreg.nodes.flow_check.check_flow` check all of it before anything is
unpickled or handed to ryvencore, and returns a project that names this package only, found
where dicomreg is installed or checked out. A flow saved here names the node package by name,
not by the saving machine's path, and keeps paths relative to the flow file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from dicomreg.core.errors import DicomRegError

from .flow_check import MAX_DEPTH, PACKAGE_DIRECTORY, PACKAGE_NAME, FlowError, check_flow

__all__ = ["PACKAGE_DIRECTORY", "PACKAGE_NAME", "FlowError", "check_flow", "execute",
           "load_flow", "new_session", "node_package", "project_of", "register", "run_flow",
           "save_flow", "update_sources"]


def _no_constant(name: str) -> Any:
    raise FlowError(f"the number {name} is not finite; a flow holds finite numbers")


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlowError(f"flow file '{path}' does not exist") from None
    except UnicodeDecodeError as error:
        raise FlowError(f"flow file '{path}' is not a Ryven project (JSON): {error}") from None
    except (OSError, ValueError) as error:  # a directory, a permission, a NUL in the path
        raise FlowError(f"flow file {str(path)!r} cannot be read: "
                        f"{getattr(error, 'strerror', None) or error}") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise FlowError(f"flow file '{path}' nests deeper than JSON is read here; a flow "
                        f"nests at most {MAX_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError, and Python's limit on long integers
        if "integer string conversion" in str(error):
            raise FlowError(f"flow file '{path}' holds a number of more than 4300 digits; a "
                            "flow's numbers fit in 64 bits") from None
        raise FlowError(f"flow file '{path}' is not a Ryven project (JSON): {error}") from None


def load_flow(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A flow file's project, checked (:func:`check_flow`), with the package found here.

    What the editor would take from the file beyond the checked data is replaced: the only
    required package is this one, at its place here, and saved context-menu actions (bound
    to methods by name) give way to the nodes' own.
    """
    path = Path(path)
    project = _read_json(path)
    check_flow(project)
    from importlib.metadata import version

    # The structure was checked to be the current one: Ryven must not "translate" it.
    project["general info"] = {**project.get("general info", {}),
                               "type": "Ryven project file", "ryven version": version("ryven")}
    project["required packages"] = [{"name": PACKAGE_NAME, "dir": str(PACKAGE_DIRECTORY)}]
    for flow in project["flows"].values():
        for node in flow["nodes"]:
            for key in ("actions", "special actions"):
                node.pop(key, None)
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
    from dicomreg.core.output import RYVEN_PROJECT, atomic_output

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


def update_sources(flow: Any) -> list:
    """Let every source node (one with no input connected) read its files; the data flow
    updates the rest. Returns the source nodes."""
    sources = [node for node in flow.nodes
               if not any(flow.connected_output(port) is not None for port in node.inputs)]
    for node in sources:
        node.update()
    return sources


def _apply_settings(nodes: list, settings: dict[str, str]) -> set[int]:
    """Apply ``--set NODE.FIELD=VALUE``; return the ids of the nodes whose fileName the user
    gave (the user chose that output, wherever it is)."""
    from dicomreg.core.fields import field_by_name

    chosen = set()
    for name, value in settings.items():
        node_name, _, setting = name.rpartition(".")
        if not node_name:
            raise FlowError(f"--set {name}={value}: expected NODE.FIELD=VALUE")
        node = _find(nodes, node_name)
        try:
            node.set_setting(setting, value)
        except DicomRegError as error:
            raise FlowError(f"--set {name}={value}: {error}") from None
        # DicomREGSave's set_field keeps its own error (as the panel shows it) and clears
        # it on success; any other node's error is not this setting's (setting the save's
        # fileName runs a DicomSend downstream, which fails while the file does not exist).
        if node.title == "DicomREGSave" and node.error:
            raise FlowError(f"--set {name}={value}: {node.error}")
        if node.title == "DicomREGSave" and field_by_name(setting).name == "fileName":
            chosen.add(id(node))
    return chosen


def execute(flows: list, settings: dict[str, str] | None = None
            ) -> tuple[list[str], list[str], list[str]]:
    """Run loaded flows: settings first, then every source node reads its files, and each
    DicomREGSave node inherits, references and saves, inside the flow's folder unless its
    fileName was given in ``settings``. Returns the written files, the errors
    (``NODE: message``) and the tag dumps of the TagDump nodes."""
    from .base import flow_directory

    written, errors, dumps = [], [], []
    for flow in flows:
        flow.set_algorithm_mode(flow.algorithm_mode())  # pitfall 7
        nodes = list(flow.nodes)
        chosen = _apply_settings(nodes, settings or {})
        sources = update_sources(flow)
        for node in nodes:
            if node.title == "DicomREGSave":
                result = node.run(None if id(node) in chosen else flow_directory())
                if result:
                    written.append(result)
        # A source's error first: the others' are often its consequence.
        errors += [f"{node.title}: {node.error}"
                   for node in sorted(nodes, key=lambda node: node not in sources) if node.error]
        dumps += [node.dump for node in nodes if node.title == "TagDump" and node.dump]
    return written, errors, dumps


def run_flow(path: str | os.PathLike[str], settings: dict[str, str] | None = None
             ) -> tuple[list[str], list[str], list[str]]:
    """Load a flow file (checked) and :func:`execute` it headless."""
    from .base import set_flow_directory

    path = Path(path).resolve()
    project = load_flow(path)
    set_flow_directory(path.parent, path)
    return execute(new_session().load(project), settings)
