"""The folder whose child Ryven loads as the node package (see dicomreg.nodes.flows)."""
