"""The DicomREGSave module: its fields and triggers, inheritance from sources, the one run
sequence, the save of one registration from files, and batches of them.

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "BadParameterError": "module",
    "DicomREGSave": "module",
    "default_values": "module",
    "InheritanceReport": "inherit",
    "inherited_values": "inherit",
    "instance_references": "inherit",
    "other_input_tags": "inherit",
    "other_patient_warning": "inherit",
    "RunResult": "sequence",
    "run_sequence": "sequence",
    "SaveRequest": "save_request",
    "SaveResult": "save_request",
    "save_registration": "save_request",
    "BatchError": "batch",
    "CaseResult": "batch",
    "read_manifest": "batch",
    "run_batch": "batch",
    "run_case": "batch",
})
