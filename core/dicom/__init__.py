"""DICOM sources: Part 10 files read lazily, series and their geometry, the fast header scan,
volume lists of directories, the tag dump, and the standard's tables.

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, (
    "part10", "series", "header_scan", "volume_list", "dump", "standard"))
