"""Qt panels over :mod:`dicomreg.core`, using qtpy only (no Ryven): usable in any Qt program.

``panel`` is the DicomREGSave module's panel, generated from the field table;
``field_editors`` the editor of each field type; ``tag_dump_view`` the filterable dump;
``deformation_preview`` a slice of a field's magnitude or Jacobian; ``tasks`` runs work
off the GUI thread with progress and cancel.
"""
