"""The Deformable Registration Sequence (0064,0002) of the Deformable Spatial Registration Module.

One item: the source (moving) frame of reference, the referenced images of that frame, an
empty Registration Type Code Sequence, the pre- and post-deformation matrices, and the grid.
A registered point p maps to the source frame as ``post @ (pre @ p + v(p))``, with v read
from the grid at p; the grid therefore is a pull-back field on the registered (fixed) frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.valuerep import DSfloat

from dicomreg.core.fields import parse_print_lists, uid_lines
from dicomreg.core.image import Geometry, Image
from dicomreg.core.reg.vector_grid import vector_grid_value

__all__ = [
    "deformable_registration_sequence",
    "matrix_registration_item",
    "referenced_image_items",
    "right_handed_grid",
]


def ds_values(numbers: Any) -> list[DSfloat]:
    """Numbers as DS values of at most 16 characters (pydicom's auto-format)."""
    return [DSfloat(float(n), auto_format=True) for n in np.asarray(numbers, float).ravel()]


def right_handed_grid(geometry: Geometry) -> tuple[Geometry, bool]:
    """The grid as DICOM can express it, and whether its slices run in reverse order.

    DICOM's grid has no slice direction of its own: z is the cross product of the row and
    column directions. A left-handed grid (z pointing the other way) is therefore written
    from its last slice's position with its slices in reverse order.
    """
    direction = geometry.direction_matrix
    if np.linalg.det(direction) > 0:
        return geometry, False
    last = geometry.index_to_point((0, 0, geometry.size[2] - 1))
    flipped = direction.copy()
    flipped[:, 2] = -flipped[:, 2]
    return (
        Geometry(geometry.size, geometry.spacing, tuple(float(v) for v in last),
                 tuple(float(v) for v in flipped.ravel())),
        True,
    )


def matrix_registration_item(matrix: Any, matrix_type: str) -> Dataset:
    """An item of the Pre/Post Deformation Matrix Registration Sequence."""
    item = Dataset()
    item.FrameOfReferenceTransformationMatrixType = matrix_type
    # (3006,00C6); the module documentation's "(3006,006C)" is a typo.
    item.FrameOfReferenceTransformationMatrix = ds_values(matrix)
    return item


def referenced_image_items(values: Mapping[str, Any]) -> list[Dataset]:
    """The Referenced Image Sequence items from the four referenced-image fields."""
    classes = uid_lines(values["referencedImageSequenceReferencedSOPClassUIDs"])
    instances = uid_lines(values["referencedImageSequenceReferencedSOPInstanceUIDs"])
    frames = parse_print_lists(values["referencedFrameNumbers"])
    segments = parse_print_lists(values["referencedSegmentNumbers"])
    items = []
    for index, (class_uid, instance_uid) in enumerate(zip(classes, instances, strict=False)):
        item = Dataset()
        item.ReferencedSOPClassUID = class_uid
        item.ReferencedSOPInstanceUID = instance_uid
        if index < len(frames) and frames[index]:
            item.ReferencedFrameNumber = frames[index]
        if index < len(segments) and segments[index]:
            item.ReferencedSegmentNumber = segments[index]
        items.append(item)
    return items


def _grid_item(values: Mapping[str, Any], image: Image) -> Dataset:
    assert image.geometry is not None and image.voxels is not None
    geometry, reverse = right_handed_grid(image.geometry)
    # A reversed view, not a copy; the writer gathers it chunk by chunk.
    voxels = image.voxels[::-1] if reverse else image.voxels
    item = Dataset()
    item.ImagePositionPatient = ds_values(values["imagePositionPatient"])
    item.ImageOrientationPatient = ds_values(values["imageOrientationPatient"])
    item.GridDimensions = [int(n) for n in geometry.size]
    item.GridResolution = [float(s) for s in geometry.spacing]
    item.add_new(0x00640009, "OF", vector_grid_value(voxels))  # Vector Grid Data
    return item


def deformable_registration_sequence(values: Mapping[str, Any], image: Image) -> Sequence:
    """The Deformable Registration Sequence for the field values and the ``input0`` field."""
    item = Dataset()
    item.SourceFrameOfReferenceUID = values["sourceFrameOfReferenceUID"]
    references = referenced_image_items(values)
    if references:
        item.ReferencedImageSequence = references
    # Type 2: present, and empty rather than holding an empty item (an empty item is one of
    # the errors dciodvfy reports for other writers).
    item.RegistrationTypeCodeSequence = []
    item.PreDeformationMatrixRegistrationSequence = [
        matrix_registration_item(values["preDeformationMatrix"],
                                 values["preDeformationMatrixType"])
    ]
    item.PostDeformationMatrixRegistrationSequence = [
        matrix_registration_item(values["postDeformationMatrix"],
                                 values["postDeformationMatrixType"])
    ]
    item.DeformableRegistrationGridSequence = [_grid_item(values, image)]
    return Sequence([item])
