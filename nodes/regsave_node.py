"""The DicomREGSave node: the module's connectors, fields and triggers, and nothing else.

The node forwards its four inputs to a headless :class:`~dicomreg.core.DicomREGSave`, saves
the module's persistent fields and the values set by hand with the flow (deprecated names
accepted on load), and has one method per trigger field, named after it, for the editor's
actions and ``dicomreg run``; Save runs the module's run sequence. Its outputs are the written
file's path, the tag dump and the status. Any settable field can also be shown as an input
port (:meth:`DicomREGSaveNode.show_field_as_input`), after the four connectors: a value
arriving there is set as ``--set`` sets it, and the port and its connection are saved with
the flow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ryven.node_env import Data, NodeInputType, NodeOutputType

from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import FIELDS, FieldType, field_by_name
from dicomreg.core.output import OutputPathError, is_inside, refuse_overwriting_inputs
from dicomreg.core.regsave import DicomREGSave

from .base import DicomNode, flow_directory, flow_file

__all__ = ["DicomREGSaveNode", "TRIGGERS", "trigger_menu"]

TRIGGERS = tuple(f.name for f in FIELDS if f.type is FieldType.TRIGGER)


def trigger_menu() -> dict[str, str]:
    """The node's context menu: each trigger's visible title -> its method name.

    Titles are distinct in the field table (the two "Create new UID" carry their field
    names), so that every trigger has its own entry.
    """
    menu = {field_by_name(name).title: name for name in TRIGGERS}
    if len(menu) != len(TRIGGERS):
        raise RuntimeError("two triggers share a title; the context menu would lose one")
    return menu


_CONNECTORS = 4  # input0, input1, inputBase, inputModifierList; field ports follow


class DicomREGSaveNode(DicomNode):
    """Writes a Deformable Spatial Registration from the field at input0."""

    title = "DicomREGSave"
    tags = ["DICOM", "registration", "REG", "save"]
    init_inputs = [NodeInputType("input0"), NodeInputType("input1"), NodeInputType("inputBase"),
                   NodeInputType("inputModifierList")]
    init_outputs = [NodeOutputType("fileName"), NodeOutputType("tagDump"),
                    NodeOutputType("status")]
    status_output = 2

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        self.module = DicomREGSave(base_dir=flow_directory())
        self.written = ""
        # Called after the outputs change (the editor's panel follows the node).
        self.listeners: list[Any] = []

    @property
    def overrides(self) -> dict[str, str]:
        """The fields set by hand since the last inheritance (the module keeps them)."""
        return self.module.overrides

    # --- state ------------------------------------------------------------------------------

    @classmethod
    def state_problem(cls, state: Any) -> str | None:
        if not isinstance(state, dict) or set(state) - {"fields", "overrides"}:
            return "is not a dict of 'fields' and 'overrides'"
        for part in ("fields", "overrides"):
            values = state.get(part, {})
            if not isinstance(values, dict) or not all(
                    isinstance(k, str) and isinstance(v, (str, int, float))
                    for k, v in values.items()):
                return f"has {part} that are not a dict of names and values"
        return None

    def get_state(self) -> dict[str, Any]:
        return {"fields": self.module.get_state(), "overrides": dict(self.overrides)}

    def set_state(self, data: dict[str, Any], version: Any) -> None:
        data = data or {}
        try:
            notes = self.module.set_state(data.get("fields", {}))
        except DicomRegError as error:
            notes = [str(error)]
        self.module.overrides = {k: str(v) for k, v in data.get("overrides", {}).items()}
        if notes:
            self.status = "loaded with notes: " + "; ".join(notes)

    # --- connectors -------------------------------------------------------------------------

    def update_event(self, inp: int = -1) -> None:
        self.module.base_dir = flow_directory()
        # Any output can be wired to any input: the module refuses what a connector does not
        # take (the node's error, naming the connector) and keeps what it had.
        self.guarded(self._connect)
        if not self.error:
            self._apply_field_ports()
        self.publish()

    def _connect(self) -> None:
        """Each connector set from its input, every one even after a refusal (a refused one
        is left empty and refused by the module, so no save uses a stale value); the first
        refusal raised."""
        refusals = []
        for connect in (lambda: self.module.use_deformation(self.payload(0)),
                        lambda: setattr(self.module, "input1", self.payload(1)),
                        lambda: setattr(self.module, "inputBase", self.payload(2)),
                        lambda: setattr(self.module, "inputModifierList", self.payload(3))):
            try:
                connect()
            except DicomRegError as error:
                refusals.append(error)
        if refusals:
            raise refusals[0]

    # --- fields shown as inputs -------------------------------------------------------------

    shows_fields_as_inputs = True  # the flow check lets such inputs through

    @property
    def exposed_fields(self) -> list[str]:
        """The fields shown as input ports, after the four connectors (saved with the flow
        as the node's ports, their connections with them)."""
        return [port.label_str for port in self.inputs[_CONNECTORS:]]

    def show_field_as_input(self, name: str) -> None:
        """Show a field as an input port: a value arriving there is set as ``--set`` sets it
        (by hand, by the module's rules); a refusal is the node's error."""
        field = field_by_name(name)
        if field.type is FieldType.TRIGGER or not field.persistent:
            raise DicomRegError(f"{field.name} is a trigger or an output; only fields that can "
                                "be set can be shown as inputs")
        if field.name in self.exposed_fields:
            raise DicomRegError(f"{field.name} is already shown as an input")
        self.create_input(label=field.name)

    @property
    def showable_fields(self) -> list[str]:
        """The fields that may be shown as inputs now: those a flow can set, not shown yet,
        in the field table's order."""
        shown = set(self.exposed_fields)
        return [f.name for f in FIELDS if f.type is not FieldType.TRIGGER and f.persistent
                and f.name not in shown]

    def hide_field_input(self, name: str) -> None:
        """Remove a field's input port and its connection; the value it set stays, as a
        value set by hand does."""
        field = field_by_name(name)
        if field.name not in self.exposed_fields:
            raise DicomRegError(f"{field.name} is not shown as an input; shown: "
                                f"{', '.join(self.exposed_fields) or 'none'}")
        self.delete_input(_CONNECTORS + self.exposed_fields.index(field.name))

    def _apply_field_ports(self) -> None:
        for index, name in enumerate(self.exposed_fields, _CONNECTORS):
            value = self.payload(index)
            if value is not None:
                self.guarded(lambda n=name, v=value: self.module.set(n, v, by_hand=True))
                if self.error:
                    self.error = f"input {name}: {self.error}"
                    self.status = f"error: {self.error}"
                    return

    def publish(self) -> None:
        """Put the written path, the tag dump and the status on the outputs."""
        self.set_output_val(0, Data(self.written))
        self.set_output_val(1, Data(self.module.get("tagDump")))
        self.report(self.error and f"{self.error}" or self.module.status, bool(self.error))
        for listener in self.listeners:
            listener()

    def saved(self, path: Any) -> None:
        """A save done elsewhere (the panel's, in the background): show it on the outputs."""
        self.written = str(path)
        self.error = ""
        self.publish()

    # --- fields and triggers ----------------------------------------------------------------

    def set_field(self, name: str, value: Any) -> None:
        """Set a field by hand (the panel, ``dicomreg run --set``); remembered as an override."""
        field = field_by_name(name)  # an unknown name is the caller's error, not the node's
        self.guarded(lambda: self.module.set(field.name, value, by_hand=True))
        self.publish()

    set_setting = set_field

    def fire(self, name: str) -> Any:
        """Fire a trigger of the module (Save runs the whole sequence, as :meth:`run`); errors
        go to the status, the outputs follow."""
        if name == "save":
            return self.run()
        result = self.guarded(lambda: self.module.trigger(name))
        self.publish()
        return result

    def _check_target(self, folder: Path | None) -> None:
        """A run never writes over its flow file, nor outside ``folder`` when one is given."""
        target = self.module.resolved_file_name()
        refuse_overwriting_inputs(target, {"the flow file": flow_file()})
        if folder is not None and not is_inside(target, folder):
            raise OutputPathError(
                f"fileName '{self.module.get('fileName')}' is outside the flow's folder "
                f"'{folder}' (absolute, or leaving it through '..' or a link); a flow run by "
                "dicomreg run writes only inside its folder: to write there, choose it "
                "yourself with --set DicomREGSave.fileName=PATH")

    def run(self, folder: Path | None = None) -> str | None:
        """The module's run sequence (:meth:`~dicomreg.core.regsave.DicomREGSave.run`), as
        ``dicomreg run`` and the editor's Save do it; returns the written path. With
        ``folder`` (the flow's), a fileName outside it is refused."""
        self._apply_field_ports()
        if not self.error:
            self.guarded(lambda: self._check_target(folder))
        if self.error:
            self.publish()
            return None
        result = self.guarded(self.module.run)
        path = str(result.path) if result is not None and result.path is not None else None
        self.written = path or self.written
        self.publish()
        return path


def _trigger_method(name: str) -> Any:
    def method(self: DicomREGSaveNode) -> Any:
        return self.fire(name)

    method.__name__ = name
    method.__doc__ = field_by_name(name).description
    return method


# One method per trigger field, named after it: the editor saves context-menu actions by
# method name, so these names are what saved flows refer to.
for _name in TRIGGERS:
    setattr(DicomREGSaveNode, _name, _trigger_method(_name))
