"""Modifier nodes: one per modifier plugin, chained node by node in front of DicomREGSave.

Each takes the upstream list at ``inputModifierList`` and passes it on with its own plugin
appended at ``outputModifierList``. Its settings are the plugin's configuration (plain data,
the keys of the ``--modifiers`` JSON format), checked when they are set.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from ryven.node_env import NodeInputType, NodeOutputType

from dicomreg.core.errors import DicomRegError
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
        expected = self.defaults.get(name)
        if isinstance(value, str) and isinstance(expected, (list, dict)):
            try:
                value = json.loads(value)
            except ValueError as error:
                kind = "list" if isinstance(expected, list) else "object"
                raise DicomRegError(f"{self.title}.{name}: {value!r} is not JSON ({error}); "
                                    f"expected a JSON {kind}") from None
        super().set_setting(name, value)

    def update_event(self, inp: int = -1) -> None:
        def chain() -> None:
            plugin = self.plugin()
            self.set_output_val(0, ModifierListData(plugin.chain(self.payload(0))))
            self.report(f"{plugin.name}: configured")

        self.guarded(chain)


# Written out, not made with type(): the editor reads each node class's source.
class DicomModifyTagsPluginNode(_ModifierNode):
    """DicomModifyTagsPlugin as a node: add, change and remove attributes."""

    title = "DicomModifyTagsPlugin"
    plugin_class = DicomModifyTagsPlugin
    defaults = {"name": "", "operations": []}


class DicomModifySubTreeSelectorPluginNode(_ModifierNode):
    """DicomModifySubTreeSelectorPlugin as a node: plugins on chosen sequence items."""

    title = "DicomModifySubTreeSelectorPlugin"
    plugin_class = DicomModifySubTreeSelectorPlugin
    defaults = {"name": "", "path": "DeformableRegistrationSequence[*]", "plugins": [],
                "pre": [], "required": True}


class DicomModifyImageTagsPluginNode(_ModifierNode):
    """DicomModifyImageTagsPlugin as a node: grid and referenced-image attributes."""

    title = "DicomModifyImageTagsPlugin"
    plugin_class = DicomModifyImageTagsPlugin
    defaults = {"name": "", "set": {}, "item": "*", "reference": "*"}


MODIFIER_NODES = (DicomModifyTagsPluginNode, DicomModifySubTreeSelectorPluginNode,
                  DicomModifyImageTagsPluginNode)
