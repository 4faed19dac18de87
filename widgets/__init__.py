"""Qt (qtpy) panels for DicomREGSave, importing only :mod:`dicomreg.core` and qtpy.

Not built yet: see the Qt widgets issue.
"""
