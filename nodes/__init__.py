"""The Ryven node package of dicomreg: thin nodes over :mod:`dicomreg.core`.

``catalogue`` lists the node and data types; ``regsave_node`` is DicomREGSave with its
connectors, fields and triggers; ``source_nodes`` read DICOM trees, files, fields and REGs;
``modifier_nodes`` chain the modifier plugins; ``flows`` checks, loads, runs and saves flow
files without Qt; ``gui`` (imported only by Ryven's GUI hook) puts the widgets on the nodes;
``commands`` registers ``dicomreg run`` and ``dicomreg editor`` with the command line.
Ryven loads the package from ``ryven_package/dicomreg_nodes``.
"""
