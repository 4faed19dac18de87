"""Deformations as files: displacement field images and ITK transform files, other tools'
conventions, completeness checks before ITK reads a file, and metrics of a field.

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, (
    "field_file", "loaded", "loader", "transform_file", "field_convention", "conventions",
    "completeness", "metaimage", "nifti", "streamed", "metrics", "transform_probe",
    "text_transform"))
