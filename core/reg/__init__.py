"""The Deformable Spatial Registration object: composing it (its modules, the vector grid, the
Common Instance Reference), checking it, writing and reading it, applying it, and dciodvfy.

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "compose": "composition",
    "deformable_registration_sequence": "deformable_registration",
    "right_handed_grid": "deformable_registration",
    "InstanceReference": "common_instance_reference",
    "ReferenceFieldsError": "common_instance_reference",
    "common_instance_reference": "common_instance_reference",
    "reference_fields": "common_instance_reference",
    "series_groups": "common_instance_reference",
    "VectorGridBuffer": "vector_grid",
    "release_pages": "vector_grid",
    "vector_grid_array": "vector_grid",
    "vector_grid_value": "vector_grid",
    "Problem": "checks",
    "check_dataset": "checks",
    "check_fields": "checks",
    "check_vectors": "checks",
    "SaveCancelledError": "writer",
    "write_dataset": "writer",
    "DeformableRegistration": "reader",
    "RegistrationItem": "reader",
    "RegReadError": "reader",
    "read_deformable_registration": "reader",
    "ApplyError": "apply",
    "Warped": "apply",
    "map_points": "apply",
    "read_moving_image": "apply",
    "registration_transform": "apply",
    "source_points": "apply",
    "warp_image": "apply",
    "DciodvfyResult": "dciodvfy",
    "dciodvfy_available": "dciodvfy",
    "parse_dciodvfy": "dciodvfy",
    "print_dciodvfy": "dciodvfy",
    "run_dciodvfy": "dciodvfy",
})
