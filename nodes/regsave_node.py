"""The DicomREGSave node: the module's connectors, fields and triggers, and nothing else.

The node forwards its four inputs to a headless :class:`~dicomreg.core.DicomREGSave`, saves
the module's persistent fields with the flow (deprecated names accepted on load), and has one
method per trigger field, named after it, for the editor's actions and ``dicomreg run``. Its
outputs are the written file's path, the tag dump and the status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ryven.node_env import Data, NodeInputType, NodeOutputType

from dicomreg.core.atomic import OutputPathError, is_inside, refuse_overwriting_inputs
from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import FIELDS, FieldType, field_by_name
from dicomreg.core.regsave import DicomREGSave

from .base import DicomNode, flow_directory, flow_file

__all__ = ["DicomREGSaveNode", "TRIGGERS"]

TRIGGERS = tuple(f.name for f in FIELDS if f.type is FieldType.TRIGGER)


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
        # Fields set by hand since the last inheritance: ``dicomreg run`` inherits again and
        # then re-applies these, so that a saved flow never loses a hand-written value.
        self.overrides: dict[str, str] = {}
        # Called after the outputs change (the editor's panel follows the node).
        self.listeners: list[Any] = []

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
        self.overrides = {k: str(v) for k, v in data.get("overrides", {}).items()}
        if notes:
            self.status = "loaded with notes: " + "; ".join(notes)

    # --- connectors -------------------------------------------------------------------------

    def update_event(self, inp: int = -1) -> None:
        self.module.base_dir = flow_directory()
        self.module.input0 = self.payload(0)
        self.module.input1 = self.payload(1)
        self.guarded(lambda: setattr(self.module, "inputBase", self.payload(2)))
        self.module.inputModifierList = list(self.payload(3) or [])
        self.publish()

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
        field = field_by_name(name)
        if self.guarded(lambda: self.module.set(field.name, value)) is None and self.error:
            self.publish()
            return
        self.overrides[field.name] = self.module.text(field.name)
        self.publish()

    set_setting = set_field

    def fire(self, name: str) -> Any:
        """Fire a trigger of the module; errors go to the status, the outputs follow."""
        if name == "inheritDICOMTags":
            self._overrides_before_inheritance = dict(self.overrides)
            self.overrides = {}  # overwritten, as documented; undoInheritance brings them back
        elif name == "undoInheritance":
            self.overrides = getattr(self, "_overrides_before_inheritance", self.overrides)
        result = self.guarded(lambda: self.module.trigger(name))
        if name == "save" and result is not None:
            self.written = str(result)
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
        """What ``dicomreg run`` does: inherit and reference where the inputs allow, re-apply
        the hand-written values, save; returns the written path. With ``folder`` (the flow's),
        a fileName outside it is refused."""
        module = self.module
        selector = module.get("inputSelector")
        source = {"ImageConnector #0": module.input0 is not None and bool(module.input0.datasets),
                  "ImageConnector #1": module.input1 is not None,
                  "BaseConnector": module.inputBase is not None,
                  "File": bool(module.get("unresolvedFileName").strip())}[selector]
        if source:
            self.guarded(module.inheritDICOMTags)
        referenced = module.input1 if module.get("inputConnectorSelector").endswith("#1") \
            else module.input0
        if not self.error and referenced is not None and referenced.datasets:
            self.guarded(module.updateReferencedImageSequenceUIDInheritance)
        if not self.error:
            self.guarded(lambda: module.set_many(self.overrides))
        if not self.error:
            self.guarded(lambda: self._check_target(folder))
        if not self.error:
            self.fire("save")
        else:
            self.publish()
        return self.written if not self.error else None


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
