"""The dicomreg nodes in the Ryven editor: every trigger as a context-menu action.

Imported only inside the package's ``on_gui_load`` hook, so the nodes run without Qt. Actions
are saved with a flow by method name; the methods are named after the module's trigger
fields, which is what keeps saved flows' menus working.
"""

from __future__ import annotations

from ryven.gui_env import NodeGUI, node_gui

from dicomreg.core.fields import field_by_name

from .catalogue import NODE_TYPES
from .regsave_node import TRIGGERS, DicomREGSaveNode

__all__ = ["DicomNodeGUI", "DicomREGSaveGUI"]


class DicomNodeGUI(NodeGUI):
    """Colours and descriptions for the dicomreg nodes."""

    color = "#3c7ea3"


@node_gui(DicomREGSaveNode)
class DicomREGSaveGUI(DicomNodeGUI):
    """DicomREGSave with its triggers in the context menu (Inherit, Save, UIDs, clears)."""

    color = "#b35c1e"

    def __init__(self, params: object) -> None:
        super().__init__(params)
        for name in TRIGGERS:
            self.actions[field_by_name(name).title] = {"method": getattr(self.node, name)}


for _node_type in NODE_TYPES:
    if _node_type is not DicomREGSaveNode:
        node_gui(_node_type)(type(f"{_node_type.__name__}GUI", (DicomNodeGUI,), {
            "__module__": __name__, "__doc__": f"The {_node_type.title} node's GUI."}))
