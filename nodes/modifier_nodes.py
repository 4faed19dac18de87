"""Modifier nodes: one per modifier plugin, chained node by node in front of DicomREGSave.

Each takes the upstream list at ``inputModifierList`` and passes it on with its own plugin
appended at ``outputModifierList``. Its settings are the plugin's configuration (plain data,
the keys of the ``--modifiers`` JSON format), checked when they are set.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ryven.node_env import NodeInputType, NodeOutputType

from dicomreg.core.modifiers import (
    DicomModifyImageTagsPlugin,
    DicomModifySubTreeSelectorPlugin,
    DicomModifyTagsPlugin,
    ModifierPlugin,
)

from .base import DicomNode
from .payloads import ModifierListData

__all__ = ["MODIFIER_NODES"]


class _ModifierNode(DicomNode):
    plugin_class: ClassVar[type[ModifierPlugin]]
    init_inputs = [NodeInputType("inputModifierList")]
    init_outputs = [NodeOutputType("outputModifierList"), NodeOutputType("status")]
    status_output = 1

    def plugin(self) -> ModifierPlugin:
        """The plugin the settings describe (refused with a clear message when they are bad)."""
        return self.plugin_class(**self.settings)

    def set_setting(self, name: str, value: Any) -> None:
        # On the command line a list or a mapping is given as JSON.
        if isinstance(value, str) and isinstance(self.defaults.get(name), (list, dict)):
            value = json.loads(value)
        super().set_setting(name, value)

    def update_event(self, inp: int = -1) -> None:
        def chain() -> None:
            plugin = self.plugin()
            self.set_output_val(0, ModifierListData(plugin.chain(self.payload(0))))
            self.report(f"{plugin.name}: configured")

        self.guarded(chain)


def _node(plugin: type[ModifierPlugin], defaults: dict[str, Any]) -> type[_ModifierNode]:
    return type(f"{plugin.kind}Node", (_ModifierNode,), {
        "title": plugin.kind, "plugin_class": plugin, "defaults": defaults,
        "__doc__": f"The {plugin.kind} as a node; see dicomreg.core.modifiers.",
        "__module__": __name__,
    })


DicomModifyTagsPluginNode = _node(DicomModifyTagsPlugin, {"name": "", "operations": []})
DicomModifySubTreeSelectorPluginNode = _node(
    DicomModifySubTreeSelectorPlugin,
    {"name": "", "path": "DeformableRegistrationSequence[*]", "plugins": [], "pre": [],
     "required": True})
DicomModifyImageTagsPluginNode = _node(DicomModifyImageTagsPlugin,
                                       {"name": "", "set": {}, "item": "*", "reference": "*"})

MODIFIER_NODES = (DicomModifyTagsPluginNode, DicomModifySubTreeSelectorPluginNode,
                  DicomModifyImageTagsPluginNode)
