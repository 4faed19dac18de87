"""The DicomREGSave module: its fields and triggers, inheritance from sources, the one run
sequence, the save of one registration from files, and batches of them.

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, (
    "module", "connectors", "inherit", "sequence", "save_request", "batch"))
