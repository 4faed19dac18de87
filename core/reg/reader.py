"""Reading a Deformable Spatial Registration back: items, matrices and the grid as an Image.

The header is read with the bulk data left in the file (:func:`.dicom_file.read_header`);
the vectors are then memory-mapped from their place in the file, so opening a REG of hundreds
of megabytes costs almost nothing until the vectors are used, and what we wrote reads back
bit-exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID, DeformableSpatialRegistrationStorage, SpatialRegistrationStorage

from dicomreg.core.dicom import DicomFileError, read_header, region_of
from dicomreg.core.errors import DicomRegError
from dicomreg.core.image import Geometry, Image
from dicomreg.core.reg.grid_geometry import grid_geometry_problems

__all__ = ["DeformableRegistration", "RegistrationItem", "RegReadError",
           "read_deformable_registration"]

_VECTOR_GRID_DATA = 0x00640009


class RegReadError(DicomRegError):
    """A file that cannot be read as a Deformable Spatial Registration; says why."""


@dataclass
class RegistrationItem:
    """One item of the Deformable Registration Sequence."""

    source_frame_of_reference_uid: str
    pre_matrix: np.ndarray | None = None
    pre_matrix_type: str = ""
    post_matrix: np.ndarray | None = None
    post_matrix_type: str = ""
    grid: Image | None = None
    referenced_instances: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DeformableRegistration:
    """A REG file's content: the header (bulk data deferred) and its items."""

    dataset: Dataset
    items: list[RegistrationItem]
    path: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def frame_of_reference_uid(self) -> str:
        """The registered (fixed) frame of reference."""
        return str(self.dataset.get("FrameOfReferenceUID", ""))

    @property
    def deformable_item(self) -> RegistrationItem:
        """The first item that holds a grid."""
        for item in self.items:
            if item.grid is not None:
                return item
        raise RegReadError(f"'{self.path}' holds no Deformable Registration Grid")


def _matrix(item: Dataset, keyword: str) -> tuple[np.ndarray | None, str]:
    sequence = item.get(keyword)
    if not sequence:
        return None, ""
    matrix_item = sequence[0]
    values = matrix_item.get("FrameOfReferenceTransformationMatrix")
    if values is None or len(values) != 16:
        raise RegReadError(f"{keyword} holds a matrix of "
                           f"{0 if values is None else len(values)} values; expected 16")
    return (np.asarray([float(v) for v in values]).reshape(4, 4),
            str(matrix_item.get("FrameOfReferenceTransformationMatrixType", "")))


def _vectors(path: Path, ds: Dataset, grid: Dataset, count: int, memory_map: bool,
             ignore_extra_bytes: bool, notes: list[str]) -> np.ndarray:
    if _VECTOR_GRID_DATA not in grid:
        raise RegReadError(f"'{path}' has a grid without Vector Grid Data (0064,0009)")
    expected = count * 12
    syntax = UID(ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2.1"))
    dtype = ">f4" if syntax == "1.2.840.10008.1.2.2" else "<f4"
    value = grid.VectorGridData
    region = region_of(value)
    length = region.length if region is not None else len(value)
    if length != expected:
        problem = (f"'{path}': Vector Grid Data holds {length} bytes; the Grid Dimensions need "
                   f"{expected} (3 float32 per voxel)")
        if length < expected or not ignore_extra_bytes:
            hint = ("; if the first bytes are the grid, read it with --ignore-extra-bytes"
                    if length > expected else "")
            raise RegReadError(problem + hint)
        notes.append(f"{problem}; the {length - expected} extra bytes were ignored")
    if region is not None and memory_map:
        return np.memmap(region.path, dtype=dtype, mode="r", offset=region.offset,
                         shape=(count * 3,))
    if region is not None:  # one read into one array, as numpy.fromfile does it
        return np.fromfile(region.path, dtype=dtype, count=count * 3, offset=region.offset)
    return np.frombuffer(value, dtype=dtype, count=count * 3)


def _grid_image(path: Path, ds: Dataset, grid: Dataset, memory_map: bool,
                ignore_extra_bytes: bool, voxel_units: bool, notes: list[str]) -> Image:
    for keyword, message in grid_geometry_problems(grid)[:1]:  # validate's own rules
        raise RegReadError(f"'{path}': the grid's {keyword} {message}")
    try:
        dims = [int(v) for v in grid.GridDimensions]
        spacing = [float(v) for v in grid.GridResolution]
        origin = [float(v) for v in grid.ImagePositionPatient]
        orientation = np.asarray([float(v) for v in grid.ImageOrientationPatient])
    except AttributeError as error:
        raise RegReadError(f"'{path}': the grid lacks {error.name or error}") from None
    if len(dims) != 3 or len(spacing) != 3 or len(origin) != 3 or orientation.size != 6:
        raise RegReadError(f"'{path}': the grid's dimensions, resolution, position or "
                           "orientation has the wrong number of values")
    row, column = orientation[:3], orientation[3:]
    direction = np.column_stack([row, column, np.cross(row, column)])
    flat = _vectors(path, ds, grid, int(np.prod(dims)), memory_map, ignore_extra_bytes, notes)
    voxels = flat.reshape(dims[2], dims[1], dims[0], 3)
    if voxel_units:  # a known writer's fault: steps along the grid's axes, not millimetres
        scale = direction * np.asarray(spacing)
        voxels = (voxels.astype(np.float64) @ scale.T).astype(np.float32)
        notes.append("vectors converted from voxel steps to millimetres (--vector-units voxel)")
    geometry = Geometry(size=(dims[0], dims[1], dims[2]), spacing=tuple(spacing),
                        origin=tuple(origin), direction=tuple(float(v) for v in direction.ravel()))
    return Image(voxels=voxels, geometry=geometry, datasets=[ds], source=str(path),
                 owner=flat)


def read_deformable_registration(
    path: str | os.PathLike[str], *, memory_map: bool = True,
    accept_spatial_registration_class: bool = False, vector_units: str = "mm",
    ignore_extra_bytes: bool = False,
) -> DeformableRegistration:
    """Read a Deformable Spatial Registration file.

    With ``memory_map`` (the default) the vectors are memory-mapped from the file: opening
    costs almost nothing, and only what is used is read. Without it, they are read into
    memory at once, with one read into one array.

    Files that break the standard in known ways are diagnosed precisely; where the intent is
    unambiguous an explicit option reads them anyway, and ``notes`` says what was done:
    ``accept_spatial_registration_class`` for deformable content stored under the rigid
    Spatial Registration SOP class; ``vector_units="voxel"`` for vectors in voxel steps;
    ``ignore_extra_bytes`` for Vector Grid Data longer than its Grid Dimensions need.

    Raises
    ------
    RegReadError
        If the file is missing, not DICOM, not a Deformable Spatial Registration, or its
        grid is inconsistent; the message says which.
    """
    path = Path(path)
    if not path.is_file():
        raise RegReadError(f"REG file '{path}' does not exist")
    try:
        ds = read_header(path)
    except DicomFileError as error:
        raise RegReadError(str(error)) from None
    if vector_units not in ("mm", "voxel"):
        raise RegReadError(f"vector units {vector_units!r}: expected mm or voxel")
    notes: list[str] = []
    _check_sop_class(path, ds, accept_spatial_registration_class, notes)
    items = [_item(path, ds, item, memory_map, ignore_extra_bytes, vector_units == "voxel",
                   notes)
             for item in ds.get("DeformableRegistrationSequence") or []]
    if not items:
        raise RegReadError(f"'{path}' has an empty Deformable Registration Sequence")
    return DeformableRegistration(dataset=ds, items=items, path=str(path), notes=notes)


def _check_sop_class(path: Path, ds: Dataset, accept_spatial_registration_class: bool,
                     notes: list[str]) -> None:
    """Refuse another SOP class than Deformable Spatial Registration, but for the rigid
    class holding a Deformable Registration Sequence when it is accepted (then noted)."""
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class == DeformableSpatialRegistrationStorage:
        return
    name = UID(sop_class).name if sop_class else "no SOP class"
    misfiled = (sop_class == SpatialRegistrationStorage
                and "DeformableRegistrationSequence" in ds)
    if misfiled and accept_spatial_registration_class:
        notes.append(f"read although it is a {name}: its content is a Deformable "
                     "Registration Sequence (a known fault of some writers)")
    elif misfiled:
        raise RegReadError(f"'{path}' is a {name}, not a Deformable Spatial Registration, "
                           "although it holds a Deformable Registration Sequence (a known "
                           "fault of some writers); read it with "
                           "--accept-spatial-registration-class")
    else:
        raise RegReadError(f"'{path}' is a {name}, not a Deformable Spatial Registration")


def _item(path: Path, ds: Dataset, item: Dataset, memory_map: bool, ignore_extra_bytes: bool,
          voxel_units: bool, notes: list[str]) -> RegistrationItem:
    """One item of the Deformable Registration Sequence: its matrices, grid and references."""
    pre, pre_type = _matrix(item, "PreDeformationMatrixRegistrationSequence")
    post, post_type = _matrix(item, "PostDeformationMatrixRegistrationSequence")
    grids = item.get("DeformableRegistrationGridSequence") or []
    return RegistrationItem(
        source_frame_of_reference_uid=str(item.get("SourceFrameOfReferenceUID", "")),
        pre_matrix=pre, pre_matrix_type=pre_type,
        post_matrix=post, post_matrix_type=post_type,
        grid=(_grid_image(path, ds, grids[0], memory_map, ignore_extra_bytes, voxel_units,
                          notes) if grids else None),
        referenced_instances=[(str(r.get("ReferencedSOPClassUID", "")),
                               str(r.get("ReferencedSOPInstanceUID", "")))
                              for r in item.get("ReferencedImageSequence") or []],
    )
