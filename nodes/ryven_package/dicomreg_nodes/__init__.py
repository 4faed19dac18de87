"""The folder Ryven loads as the dicomreg node package (see dicomreg.nodes)."""
