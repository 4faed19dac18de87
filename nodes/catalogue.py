"""The node and data types of the dicomreg node package, in the order the editor lists them."""

from __future__ import annotations

from .modifier_nodes import MODIFIER_NODES
from .net_nodes import DicomSendNode, PacsQueryNode, PacsRetrieveNode
from .payloads import DatasetData, DeformationData, ImageData, ModifierListData, VolumeListData
from .register_node import RegisterNode
from .regsave_node import DicomREGSaveNode
from .source_nodes import (
    DicomFileNode,
    DicomImportNode,
    DisplacementFieldNode,
    RegLoadNode,
    TagDumpNode,
    ValueNode,
)
from .view_nodes import FusedViewNode, WarpNode

__all__ = ["DATA_TYPES", "NODE_TYPES"]

NODE_TYPES = (DicomREGSaveNode, DicomImportNode, DicomFileNode, DisplacementFieldNode,
              RegisterNode, WarpNode, FusedViewNode, RegLoadNode, TagDumpNode, PacsQueryNode,
              PacsRetrieveNode, DicomSendNode, ValueNode, *MODIFIER_NODES)
DATA_TYPES = (ImageData, DeformationData, DatasetData, VolumeListData, ModifierListData)
