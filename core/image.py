"""The Image payload: voxels, a world matrix, and the DICOM headers it came from.

This is what flows into the ``input0`` and ``input1`` connectors, the way an image of the
original module carries its DICOM tree. Geometry follows ITK and DICOM: positions in
millimetres in patient coordinates (LPS), ``origin`` is the centre of the first voxel,
``direction`` holds the unit axis vectors as columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pydicom is not imported for the geometry alone (a scan needs none)
    from pydicom.dataset import Dataset

__all__ = ["Geometry", "Image"]


@dataclass(frozen=True)
class Geometry:
    """A 3-D voxel grid in patient coordinates.

    Parameters
    ----------
    size
        Number of voxels along x, y, z (columns, rows, slices).
    spacing
        Voxel spacing in mm along x, y, z.
    origin
        Position of the centre of voxel (0, 0, 0) in mm (LPS).
    direction
        3x3 matrix whose columns are the unit vectors of the x, y and z axes.
    """

    size: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)

    @property
    def direction_matrix(self) -> np.ndarray:
        """The direction as a 3x3 array (columns = axes)."""
        return np.asarray(self.direction, dtype=float).reshape(3, 3)

    @property
    def world_matrix(self) -> np.ndarray:
        """4x4 matrix mapping a voxel index (i, j, k, 1) to a patient position (mm)."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.direction_matrix * np.asarray(self.spacing, dtype=float)
        matrix[:3, 3] = self.origin
        return matrix

    @property
    def image_orientation_patient(self) -> tuple[float, ...]:
        """DICOM Image Orientation (Patient): the row (x) then column (y) direction cosines."""
        d = self.direction_matrix
        return (*d[:, 0], *d[:, 1])

    @classmethod
    def from_slices(cls, orientation: Sequence[float] | None,
                    pixel_spacing: Sequence[float] | None, positions: np.ndarray,
                    rows: int, columns: int, fallback_spacing: float = 1.0) -> Geometry | None:
        """The grid of slices with one orientation and pixel spacing at ``positions`` (N, 3);
        None when the orientation or spacing is missing. The slice spacing is the mean step
        along the normal (``fallback_spacing`` for a single slice)."""
        if orientation is None or len(orientation) != 6 or pixel_spacing is None \
                or len(pixel_spacing) != 2 or len(positions) == 0:
            return None
        values = np.asarray([float(v) for v in orientation], float)
        normal = np.cross(values[:3], values[3:])
        along = positions @ normal
        order = np.argsort(along, kind="stable")
        steps = np.diff(along[order])
        slice_spacing = float(np.mean(steps)) if len(steps) else fallback_spacing
        direction = np.column_stack([values[:3], values[3:], normal])
        return cls(
            size=(columns, rows, len(positions)),
            spacing=(float(pixel_spacing[1]), float(pixel_spacing[0]),
                     abs(slice_spacing) or 1.0),
            origin=tuple(float(v) for v in positions[order[0]]),
            direction=tuple(float(v) for v in direction.ravel()),
        )

    @classmethod
    def from_itk(cls, size: Sequence[int], spacing: Sequence[float], origin: Sequence[float],
                 direction: Sequence[float]) -> Geometry | None:
        """The grid of an ITK image (or image information) of 3 dimensions, or of 4 whose
        4th axis (three volumes stacked) is not mixed with the others: its first three
        axes. None for any other."""
        dimension = len(size)
        matrix = np.asarray(direction, dtype=float).reshape(dimension, dimension)
        if dimension == 4 and np.allclose(matrix[3, :3], 0) and np.allclose(matrix[:3, 3], 0):
            matrix = matrix[:3, :3]
        elif dimension != 3:
            return None
        return cls(size=tuple(int(n) for n in size[:3]),
                   spacing=tuple(float(v) for v in spacing[:3]),
                   origin=tuple(float(v) for v in origin[:3]),
                   direction=tuple(float(v) for v in matrix.ravel()))

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The lowest and highest patient coordinates (mm) of the grid's voxel centres."""
        corners = np.array([[i, j, k] for i in (0, self.size[0] - 1)
                            for j in (0, self.size[1] - 1) for k in (0, self.size[2] - 1)])
        points = self.index_to_point(corners)
        return points.min(axis=0), points.max(axis=0)

    def overlaps(self, other: Geometry) -> bool:
        """Whether the two grids' bounding boxes share any point."""
        low, high = self.bounds()
        other_low, other_high = other.bounds()
        return bool(np.all(high >= other_low) and np.all(other_high >= low))

    def index_to_point(self, index: Any) -> np.ndarray:
        """Patient positions (mm) of voxel indices (..., 3) given as (i, j, k)."""
        index = np.asarray(index, dtype=float)
        return index @ (self.direction_matrix * np.asarray(self.spacing)).T + np.asarray(
            self.origin
        )

    def slab_points(self) -> Iterator[tuple[int, np.ndarray]]:
        """Each z slab's number k and its voxel centres (Y, X, 3) in mm, one slab at a time:
        a whole grid of positions in float64 would be eight times a float32 image."""
        world = self.world_matrix
        x, y, z = (int(n) for n in self.size)
        j, i = np.meshgrid(np.arange(y), np.arange(x), indexing="ij")
        plane = np.stack([i, j], axis=-1) @ world[:3, :2].T + world[:3, 3]
        for k in range(z):
            yield k, plane + k * world[:3, 2]


@dataclass
class Image:
    """Voxels, geometry and the DICOM headers of their source.

    Parameters
    ----------
    voxels
        For a displacement field, shape (Z, Y, X, 3) with (dx, dy, dz) in mm per voxel; for a
        scalar image (Z, Y, X). None when only the headers were read (a referenced series).
    geometry
        The grid; None when unknown.
    datasets
        The DICOM headers of the source: one per slice of a series (sorted along the slice
        normal), or one multi-frame dataset. Empty for an image without DICOM. A scanned
        series' (:class:`~dicomreg.core.dicom.SliceDatasets`) reads each slice's header when
        it is first used, and offers what the scan read of every slice without reading it.
    source
        Where it came from (a path), for messages.
    lps_conversion
        Non-empty when the file declared its vectors in another patient space and the reader
        already turned them into LPS: it says what was done, for the user. ITK (5.4 on) does
        so for a NIfTI file whose intent is displacement vector (1006); we do it for a NRRD
        file whose ``space`` is right-anterior-superior or left-anterior-superior.
    reading_note
        Non-empty when the reader took a decision the user should know of, which says
        nothing of the vectors' space (a 4-D image's volumes read as the components).
    """

    voxels: np.ndarray | None
    geometry: Geometry | None
    datasets: Sequence[Dataset] = field(default_factory=list)
    source: str = ""
    lps_conversion: str = ""
    reading_note: str = ""
    # A reference that keeps alive the object owning the voxel memory (a SimpleITK image
    # whose buffer ``voxels`` views, or a memory map), so that no copy is needed.
    owner: Any = field(default=None, repr=False, compare=False)

    @property
    def is_vector_field(self) -> bool:
        """True when the voxels are 3-component vectors on a 3-D grid."""
        return self.voxels is not None and self.voxels.ndim == 4 and self.voxels.shape[3] == 3

    @property
    def dimensions(self) -> str:
        """The grid's size as x by y by z (``512x512x200``), as the command line prints it;
        the voxels are stored in numpy order (z, y, x[, component]). Without voxels, the
        geometry's size (headers only); empty without either."""
        if self.voxels is None:
            size = self.geometry.size if self.geometry is not None else ()
            return "x".join(str(n) for n in size)
        spatial = self.voxels.shape[:3] if self.is_vector_field else self.voxels.shape
        return "x".join(str(n) for n in reversed(spatial))

    def describe(self) -> str:
        """A one-line description (size as x by y by z, vector components, type, spacing),
        small enough to save in a flow."""
        parts = []
        if self.voxels is not None:
            vectors = f" of {self.voxels.shape[3]}-vectors" if self.is_vector_field else ""
            parts.append(f"{self.dimensions}{vectors} {self.voxels.dtype}")
        elif self.dimensions:
            parts.append(f"{self.dimensions} grid")
        if self.geometry is not None:
            parts.append("spacing " + " ".join(f"{s:g}" for s in self.geometry.spacing))
        if self.datasets:
            parts.append(f"{len(self.datasets)} DICOM header(s)")
        return ", ".join(parts) or "empty image"
