"""A flow from elsewhere is data: checked whole before Ryven or ryvencore sees any of it.

A Ryven project pickles node states, and plain Ryven unpickles whatever a project holds, so
opening an untrusted flow can run code; the editor also imports the ``nodes.py`` of every
folder under "required packages". Here a flow may only rebuild this package's nodes:

- every pickle in it is read statically (``pickletools``, nothing executed) and must be plain
  data (containers, numbers, strings), never an import or a call;
- it requires no node package but this one, and holds no node of another package;
- its structure is what ryvencore's loader reads, key by key: the keys it needs are there,
  each of the type it expects, node states are of the shape each node takes, ports are the
  node's own, connections and output data name nodes and ports that exist, the algorithm mode
  is one ryvencore knows; a flow nests at most :data:`MAX_DEPTH` levels, and holds no NUL, no
  number beyond 64 bits and nothing that is not finite.

Each refusal is one line naming the place (``flows['main'].nodes[2].inputs[0]``) and what is
accepted there.
"""

from __future__ import annotations

import base64
import binascii
import math
import pickle
import pickletools
import re
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any

from dicomreg.core.errors import DicomRegError

__all__ = ["MAX_DEPTH", "PACKAGE_DIRECTORY", "PACKAGE_NAME", "FlowError", "check_flow",
           "check_value"]

PACKAGE_DIRECTORY = Path(__file__).resolve().parent / "ryven_package" / "dicomreg_nodes"
PACKAGE_NAME = PACKAGE_DIRECTORY.name
MAX_DEPTH = 64
_MODES = ("data", "exec", "data opt")
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
_NUMBER = (int, float)
_OPTIONAL_TEXT = (str, type(None))
_PORT = {"GID": int, "type": str, "label": str}
_INPUT_EXTRA = {"has widget": bool, "widget name": _OPTIONAL_TEXT, "widget pos": _OPTIONAL_TEXT,
                "widget data": _OPTIONAL_TEXT, "default": dict}
_DATA = {"GID": int, "identifier": str, "serialized": str}
_UI = {"geometry": str, "state": str, "view": dict}
_NODE = {"GID": int, "identifier": str, "state data": str, "inputs": list, "outputs": list}
# ryvencore's optional keys, then the editor's (ryvencore_qt's node items and GUIs)
_NODE_EXTRA = {"version": _OPTIONAL_TEXT, "additional data": dict, "pos x": _NUMBER,
               "pos y": _NUMBER, "main widget data": str, "Logging": dict, "Variables": dict,
               "actions": dict, "special actions": dict, "display title": str,
               "inspector widget": (dict, type(None)), "collapsed": bool,
               "unconnected ports hidden": bool}
# What flows through each port of the package, by the port's declared label: a connection
# joins an output and an input of the same payload (status texts feed no input).
_PAYLOADS = {"image": "an image", "input0": "an image", "input1": "an image",
             "fixed": "an image", "moving": "an image", "fixedMask": "an image",
             "movingMask": "an image", "deformation": "an image", "warped": "an image",
             "outputBase": "a DICOM tree or volume list",
             "inputBase": "a DICOM tree or volume list",
             "outputModifierList": "a modifier list", "inputModifierList": "a modifier list"}
_DRAWING = {"pos x": _NUMBER, "pos y": _NUMBER, "color": str, "base stroke weight": _NUMBER}


class FlowError(DicomRegError):
    """A flow that is refused or cannot be run; the message says why."""


# --- plain values -----------------------------------------------------------------------------

def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return list(value)


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, str):
        return f"holds a NUL character ({value[:40]!r})" if "\0" in value else None
    if isinstance(value, bool) or value is None or isinstance(value, (bytes, bytearray)):
        return None
    if isinstance(value, int):  # bit_length: str() of a huge int is refused by Python itself
        return f"holds a number of {value.bit_length()} bits, beyond 64" \
            if value.bit_length() > 63 else None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"holds the number {value}"
    return f"holds a {type(value).__name__}, which is not plain data"


def check_value(value: Any, where: str) -> None:
    """Refuse a value deeper than :data:`MAX_DEPTH`, holding a NUL, a number beyond 64 bits
    or not finite, or a container that repeats or holds itself (a pickle can build one)."""
    stack, seen = [(value, 1)], set()
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FlowError(f"{where} nests deeper than {MAX_DEPTH} levels; a flow is shallow")
        if isinstance(item, (dict, list, tuple, set, frozenset)):
            if item:  # empty ones may be shared singletons, and hold nothing
                if id(item) in seen:
                    raise FlowError(f"{where} repeats a container or holds itself; a flow "
                                    "holds plain, tree-shaped data")
                seen.add(id(item))
            stack.extend((child, depth + 1) for child in _children(item))
            continue
        problem = _scalar_problem(item)
        if problem:
            raise FlowError(f"{where} {problem}; a flow holds plain text and numbers")


# --- pickles ----------------------------------------------------------------------------------

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


def _unpickled(text: str, where: str) -> Any:
    """A pickle already found plain (so loading it builds containers and scalars only)."""
    try:
        value = pickle.loads(base64.b64decode(text, validate=True))
    except Exception as error:  # a truncated or inconsistent stream: pickle's own errors
        raise FlowError(f"{where} is not a readable pickle ({error})") from None
    check_value(value, where)
    return value


# --- structure --------------------------------------------------------------------------------

def _kind(value: Any) -> str:
    for types, name in ((bool, "true/false"), (type(None), "null"), (dict, "an object"),
                        (list, "a list"), (str, "a string"), (int, "an integer"),
                        (float, "a number")):
        if isinstance(value, types):
            return name
    return type(value).__name__


def _is(value: Any, types: Any) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool):  # JSON's true is no integer
        return bool in types
    return isinstance(value, types)


def _keys(value: Any, where: str, required: dict[str, Any],
          optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """``value`` as an object with the required keys, known keys only, each of its type."""
    optional = optional or {}
    if not isinstance(value, dict):
        raise FlowError(f"{where} is {_kind(value)}; expected an object")
    missing = [key for key in required if key not in value]
    if missing:
        raise FlowError(f"{where} has no {missing[0]!r}; expected the keys "
                        f"{', '.join(map(repr, required))}")
    known = {**required, **optional}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise FlowError(f"{where} has the unknown key {unknown[0]!r}; its keys are "
                        f"{', '.join(map(repr, known))}")
    for key, types in known.items():
        if key in value and not _is(value[key], types):
            raise FlowError(f"{where}[{key!r}] is {_kind(value[key])}, which is not what "
                            "ryvencore reads there")
    return value


def _index(value: Any, where: str, size: int) -> int:
    if not _is(value, int) or not 0 <= value < size:
        raise FlowError(f"{where} is {value!r}; expected an index from 0 to {size - 1}"
                        if size else f"{where} is {value!r}, but there is nothing to index")
    return value


def _check_packages(project: dict[str, Any]) -> None:
    """Only this package: Ryven would import the ``nodes.py`` of any other folder named."""
    packages = project.get("required packages", [])
    if not isinstance(packages, list):
        raise FlowError("'required packages' is not a list")
    for number, package in enumerate(packages):
        entry = _keys(package, f"required packages[{number}]", {"name": str}, {"dir": str})
        folder = entry.get("dir", PACKAGE_NAME)
        if entry["name"] != PACKAGE_NAME or PurePath(folder.replace("\\", "/")).name \
                != PACKAGE_NAME:
            raise FlowError(f"the flow requires the node package {entry['name']!r} in "
                            f"{folder!r}; only the dicomreg node package is loaded (Ryven "
                            "would run that folder's nodes.py): remove the entry")


def _node_classes() -> dict[str, type]:
    from .catalogue import NODE_TYPES

    classes = {}
    for cls in NODE_TYPES:
        for name in (cls.__name__, *getattr(cls, "legacy_identifiers", [])):
            classes[f"{PACKAGE_NAME}.{name}"] = cls
    return classes


def _data_types() -> set[str]:
    from .catalogue import DATA_TYPES

    return {"Data", *(cls.__name__ for cls in DATA_TYPES)}


def _check_identifiers(project: dict[str, Any]) -> None:
    classes = _node_classes()
    for flow in project["flows"].values():
        nodes = flow.get("nodes") if isinstance(flow, dict) else None
        for node in nodes if isinstance(nodes, list) else []:  # the rest: _check_structure
            identifier = node.get("identifier", "") if isinstance(node, dict) else ""
            if not isinstance(identifier, str) or identifier not in classes:
                raise FlowError(f"node {identifier!r} is not of the dicomreg node package; "
                                "only dicomreg flows are run here")


def _check_data(value: Any, where: str, types: set[str]) -> None:
    data = _keys(value, where, _DATA, {"version": _OPTIONAL_TEXT})
    if data["identifier"] not in types:
        raise FlowError(f"{where} is of the data type {data['identifier']!r}; expected one of "
                        f"{', '.join(sorted(types))}")
    _unpickled(data["serialized"], f"{where}['serialized']")


def _check_ports(node: dict[str, Any], cls: type, where: str) -> None:
    for side, declared, extra in (("inputs", cls.init_inputs, _INPUT_EXTRA),
                                  ("outputs", cls.init_outputs, {})):
        shown = len(node[side]) - len(declared) if side == "inputs" else 0
        if len(node[side]) != len(declared) and not (
                shown > 0 and getattr(cls, "shows_fields_as_inputs", False)):
            raise FlowError(f"{where} has {len(node[side])} {side}; a {cls.title} node has "
                            f"{len(declared)}")
        for number, port in enumerate(node[side][len(declared):], len(declared)):
            _field_port(port, f"{where}.{side}[{number}]")
        for number, port in enumerate(node[side]):
            port_where = f"{where}.{side}[{number}]"
            _keys(port, port_where, _PORT, extra)
            if port["type"] != "data" or port.get("has widget"):
                raise FlowError(f"{port_where} is not a plain data port (type 'data', no "
                                "widget), as every dicomreg port is")
            if "default" in port:
                _check_data(port["default"], f"{port_where}['default']", {"Data"})


def _field_port(port: Any, where: str) -> None:
    """An input past a DicomREGSave node's connectors shows a field that can be set."""
    from dicomreg.core.fields import field_by_name

    label = port.get("label") if isinstance(port, dict) else None
    try:
        field = field_by_name(label) if isinstance(label, str) else None
    except DicomRegError:
        field = None
    if field is None or not field.persistent or field.name != label:
        raise FlowError(f"{where} is an input {label!r} that is no field a flow can set")


def _check_node(node: Any, where: str, classes: dict[str, type]) -> dict[str, Any]:
    _keys(node, where, _NODE, _NODE_EXTRA)
    cls = classes[node["identifier"]]
    where = f"{where} ({cls.title})"
    problem = cls.state_problem(_unpickled(node["state data"], f"{where}['state data']"))
    if problem:
        raise FlowError(f"{where}: its state {problem}")
    if "main widget data" in node:
        _unpickled(node["main widget data"], f"{where}['main widget data']")
    if node.get("Logging", {"loggers": []}) != {"loggers": []} or \
            node.get("Variables", {"subscriptions": {}}) != {"subscriptions": {}}:
        raise FlowError(f"{where} subscribes to loggers or variables; dicomreg nodes use none")
    if node.get("additional data", {}) != {}:
        raise FlowError(f"{where}['additional data'] is not empty; dicomreg nodes keep none")
    _check_ports(node, cls, where)
    return node


def _check_payloads(parent: type, output: int, child: type, port: int, where: str) -> None:
    # Any other port carries a text: a status, a file name, or a field shown as an input.
    given = parent.init_outputs[output].label
    # Inputs past the declared ones are DicomREGSave fields shown as inputs: texts.
    taken = child.init_inputs[port].label if port < len(child.init_inputs) else "a field"
    if _PAYLOADS.get(given, "a text") != _PAYLOADS.get(taken, "a text"):
        raise FlowError(f"{where} connects {parent.title}'s output {given!r} "
                        f"({_PAYLOADS.get(given, 'a text')}) to {child.title}'s input "
                        f"{taken!r}, which takes {_PAYLOADS.get(taken, 'a text')}")


def _check_connections(flow: dict[str, Any], where: str, classes: list[type]) -> None:
    nodes = flow["nodes"]
    fed: set[tuple[int, int]] = set()
    after: dict[int, set[int]] = {i: set() for i in range(len(nodes))}
    for number, connection in enumerate(flow["connections"]):
        here = f"{where}.connections[{number}]"
        keys = ("parent node index", "output port index", "connected node",
                "connected input port index")
        _keys(connection, here, dict.fromkeys(keys, int))
        parent = _index(connection[keys[0]], f"{here}[{keys[0]!r}]", len(nodes))
        _index(connection[keys[1]], f"{here}[{keys[1]!r}]", len(nodes[parent]["outputs"]))
        child = _index(connection[keys[2]], f"{here}[{keys[2]!r}]", len(nodes))
        port = _index(connection[keys[3]], f"{here}[{keys[3]!r}]", len(nodes[child]["inputs"]))
        _check_payloads(classes[parent], connection[keys[1]], classes[child], port, here)
        if (child, port) in fed:
            raise FlowError(f"{here} connects a second output to input {port} of node {child}; "
                            "an input takes one")
        fed.add((child, port))
        after[parent].add(child)
    _refuse_cycles(after, where)


def _refuse_cycles(after: dict[int, set[int]], where: str) -> None:
    """A flow runs from its sources to its ends; a cycle (a node feeding itself) would not."""
    waiting = {node: 0 for node in after}
    for children in after.values():
        for child in children:
            waiting[child] += 1
    ready = [node for node, count in waiting.items() if count == 0]
    while ready:
        for child in after[ready.pop()]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    looped = sorted(node for node, count in waiting.items() if count > 0)
    if looped:
        raise FlowError(f"{where}: its connections make a cycle through nodes "
                        f"{', '.join(map(str, looped))}; a flow's data flows one way")


def _check_output_data(flow: dict[str, Any], where: str, types: set[str]) -> None:
    nodes = flow["nodes"]
    for number, entry in enumerate(flow["output data"]):
        here = f"{where}['output data'][{number}]"
        _keys(entry, here, {"data": dict, "dependent node outputs": list})
        _check_data(entry["data"], f"{here}['data']", types)
        pairs = entry["dependent node outputs"]
        if len(pairs) % 2:
            raise FlowError(f"{here}['dependent node outputs'] has an odd length; expected "
                            "node and output index pairs")
        for node, output in zip(pairs[0::2], pairs[1::2], strict=True):
            node = _index(node, f"{here}['dependent node outputs']", len(nodes))
            _index(output, f"{here}['dependent node outputs']", len(nodes[node]["outputs"]))


def _numbers(value: Any, count: int) -> bool:
    return isinstance(value, list) and len(value) == count and all(_is(v, _NUMBER)
                                                                  for v in value)


def _check_view(view: Any, where: str) -> None:
    """The editor's drawings and scene size (ryvencore_qt's FlowView)."""
    _keys(view, where, {}, {"drawings": list, "view size": list})
    if "view size" in view and not _numbers(view["view size"], 2):
        raise FlowError(f"{where}['view size'] is not two numbers")
    for number, drawing in enumerate(view.get("drawings", [])):
        here = f"{where}['drawings'][{number}]"
        _keys(drawing, here, _DRAWING, {"type": str, "points": list})
        if not all(_numbers(point, 3) for point in drawing.get("points", [])):
            raise FlowError(f"{here}['points'] holds what is not [x, y, weight]")


def _check_one_flow(flow: Any, where: str, classes: dict[str, type], types: set[str]) -> None:
    _keys(flow, where, {"GID": int, "algorithm mode": str, "nodes": list, "connections": list,
                        "output data": list}, {"version": _OPTIONAL_TEXT, "flow view": dict})
    if "flow view" in flow:
        _check_view(flow["flow view"], f"{where}['flow view']")
    if flow["algorithm mode"] not in _MODES:
        raise FlowError(f"{where}['algorithm mode'] is {flow['algorithm mode']!r}; expected "
                        f"one of {', '.join(map(repr, _MODES))}")
    for number, node in enumerate(flow["nodes"]):
        _check_node(node, f"{where}.nodes[{number}]", classes)
    _check_connections(flow, where, [classes[node["identifier"]] for node in flow["nodes"]])
    _check_output_data(flow, where, types)


def _check_hex(value: Any, where: str) -> None:
    try:
        bytes.fromhex(value)
    except (TypeError, ValueError):
        raise FlowError(f"{where} is not a hexadecimal string (a saved window state)") \
            from None


def _check_ui(ui: Any, where: str) -> None:
    _keys(ui, where, {}, _UI)
    for key in ("geometry", "state"):
        if key in ui:
            _check_hex(ui[key], f"{where}[{key!r}]")
    if not all(_is(v, _NUMBER) for v in ui.get("view", {}).values()):
        raise FlowError(f"{where}['view'] holds what is not a number (a view transform)")


def _check_addons(addons: dict[str, Any]) -> None:
    for name, addon in addons.items():
        where = f"addons[{name!r}]"
        _keys(addon, where, {"GID": int, "version": str, "custom state": dict})
        if not re.fullmatch(r"\d+(\.\d+)*", addon["version"]):  # ryvencore parses it
            raise FlowError(f"{where}['version'] is {addon['version']!r}; expected a version "
                            "such as 0.4")
        state = addon["custom state"]
        empty = (state == {} if name == "Logging" else
                 name == "Variables" and all(k.isdigit() and v == {} for k, v in state.items()))
        if not empty:
            raise FlowError(f"{where} holds state (loggers, variables) or is not one of "
                            "ryvencore's; dicomreg flows use none")


def _check_structure(project: dict[str, Any]) -> None:
    _keys(project, "the project", {"flows": dict, "addons": dict, "GID": int},
          {"general info": dict, "required packages": list, "version": _OPTIONAL_TEXT,
           "geometry": str, "state": str, "flow_uis": dict, "flow_ui_template": dict})
    for key in ("geometry", "state"):
        if key in project:
            _check_hex(project[key], f"the project's {key!r}")
    for gid, ui in project.get("flow_uis", {}).items():
        _check_ui(ui, f"flow_uis[{gid!r}]")
    if "flow_ui_template" in project:
        _check_ui(project["flow_ui_template"], "flow_ui_template")
    _check_addons(project["addons"])
    classes, types = _node_classes(), _data_types()
    for title, flow in project["flows"].items():
        _check_one_flow(flow, f"flows[{title!r}]", classes, types)


def check_flow(project: Any) -> None:
    """Refuse a flow that would do anything but rebuild this package's nodes (see the module).

    Raises
    ------
    FlowError
        Naming the first offending place.
    """
    if not isinstance(project, dict) or not isinstance(project.get("flows"), dict):
        raise FlowError("not a Ryven project: it has no 'flows'")
    check_value(project, "the flow")
    for where, text in _pickles(project):
        problem = _plain_pickle_problem(text)
        if problem:
            raise FlowError(f"refused: the pickle at {where} is not plain data: {problem}")
    _check_identifiers(project)
    _check_packages(project)
    _check_structure(project)
