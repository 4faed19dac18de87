"""Deformations as files: displacement field images and ITK transform files, other tools'
conventions, completeness checks before ITK reads a file, and metrics of a field.

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "FieldFileError": "field_file",
    "read_displacement_field": "field_file",
    "write_displacement_field": "field_file",
    "LoadedDeformation": "loaded",
    "ITK_CONVENTION": "loader",
    "load_deformation": "loader",
    "TransformFileError": "transform_file",
    "TransformRegistration": "transform_file",
    "read_transform_file": "transform_file",
    "CONVENTION_OPTIONS": "conventions",
    "ConventionError": "conventions",
    "FieldConvention": "conventions",
    "Inversion": "conventions",
    "InversionCancelledError": "conventions",
    "invert_push_field": "conventions",
    "to_reg_convention": "conventions",
    "IncompleteFileError": "completeness",
    "check_complete": "completeness",
    "read_metaimage": "metaimage",
    "DISPLACEMENT_VECTOR_NOTE": "nifti",
    "NiftiHeader": "nifti",
    "parse_nifti_header": "nifti",
    "read_nifti": "nifti",
    "Folding": "metrics",
    "folding": "metrics",
    "jacobian_determinant": "metrics",
    "magnitude": "metrics",
})
