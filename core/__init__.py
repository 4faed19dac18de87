"""Headless core of dicomreg: DicomREGSave without Qt or Ryven.

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
    "BadParameterError": "regsave.module",
    "DicomREGSave": "regsave.module",
    "DicomRegError": "errors",
    "Geometry": "image",
    "Image": "image",
    "read_deformable_registration": "reg.reader",
    "read_displacement_field": "deformation.field_file",
    "write_displacement_field": "deformation.field_file",
}

if TYPE_CHECKING:
    from dicomreg.core.deformation import (
        read_displacement_field,
        write_displacement_field,
    )
    from dicomreg.core.errors import DicomRegError
    from dicomreg.core.image import Geometry, Image
    from dicomreg.core.reg import read_deformable_registration
    from dicomreg.core.regsave import BadParameterError, DicomREGSave


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
