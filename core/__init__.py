"""Headless core of ryven-dicomreg: DicomREGSave without Qt or Ryven.

The field table (:mod:`.fields`), the module with its connectors and triggers
(:class:`DicomREGSave`), composition of the Deformable Spatial Registration, the checks, an
atomic streaming writer and a reader.

The names below are imported on first use (PEP 562), so that importing one light submodule
(the command line's ``scan``, say) does not import all of pydicom's machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "BadParameterError",
    "DicomREGSave",
    "DicomRegError",
    "Geometry",
    "Image",
    "read_deformable_registration",
    "read_displacement_field",
    "write_displacement_field",
]

_WHERE = {
    "BadParameterError": "dicomregsave",
    "DicomREGSave": "dicomregsave",
    "DicomRegError": "errors",
    "Geometry": "image",
    "Image": "image",
    "read_deformable_registration": "reader",
    "read_displacement_field": "displacement_field",
    "write_displacement_field": "displacement_field",
}

if TYPE_CHECKING:
    from .dicomregsave import BadParameterError, DicomREGSave
    from .displacement_field import read_displacement_field, write_displacement_field
    from .errors import DicomRegError
    from .image import Geometry, Image
    from .reader import read_deformable_registration


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
