"""Ryven's entry to the dicomreg node package.

Ryven loads a node package as ``<folder>.nodes`` with the folder's parent on ``sys.path``, and
names the package after the folder. This folder, with its distinctive name, is that entry:
the nodes themselves live in ``dicomreg.nodes``, so no generic top-level module ("nodes") is
ever imported.
"""

from ryven.node_env import export_nodes, on_gui_load

from dicomreg.nodes.catalogue import DATA_TYPES, NODE_TYPES

export_nodes(node_types=list(NODE_TYPES), data_types=list(DATA_TYPES))


@on_gui_load
def load_gui() -> None:
    from dicomreg.nodes import gui  # noqa: F401  (registers the node GUIs)
