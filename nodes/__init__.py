"""Ryven node package for DicomREGSave (thin nodes over :mod:`dicomreg.core`).

Not built yet: see the Ryven node package issue. The core, its command line and its tests
work without it.
"""
