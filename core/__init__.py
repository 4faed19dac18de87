"""Headless core of ryven-dicomreg: DicomREGSave without Qt or Ryven.

The field table (:mod:`.fields`), the module with its connectors and triggers
(:class:`DicomREGSave`), composition of the Deformable Spatial Registration, the checks, an
atomic streaming writer and a reader.
"""

from .dicomregsave import BadParameterError, DicomREGSave
from .displacement_field import read_displacement_field, write_displacement_field
from .errors import DicomRegError
from .image import Geometry, Image
from .reader import read_deformable_registration

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
