"""DICOM headers as inheritance and reference sources: reading them without pixel data, and
the voxel grid they describe (a series of slices, or an enhanced multi-frame instance).

A series of slices carries its full headers as :class:`SliceDatasets`: each is read when
first used. A save needs of every slice only what the fast header scan already read (its
UIDs, its position, its file); in full it needs the first slice alone, which inheritance
copies from.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, overload

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from dicomreg.core.errors import DicomRegError
from dicomreg.core.image import Geometry

if TYPE_CHECKING:
    from dicomreg.core.dicom.header_scan import SliceHeader

__all__ = [
    "SliceDatasets",
    "dataset_files",
    "multiframe_geometry",
    "read_dicom_headers",
    "dicom_geometry",
    "series_geometry",
]

_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"


def read_dicom_headers(path: Path) -> Dataset | None:
    """Read one file's header (no pixel data); None if it is not a DICOM instance."""
    try:
        ds = dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        # Files without the 128-byte preamble are still DICOM; accept them only when they
        # parse to an instance with SOP class and instance UIDs.
        try:
            with warnings.catch_warnings():  # guessing at a stray file is not worth a warning
                warnings.simplefilter("ignore")
                ds = dcmread(path, stop_before_pixels=True, force=True)
        except Exception:
            return None
    except (OSError, ValueError, EOFError, KeyError, TypeError):
        return None
    if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:
        return None
    if ds.SOPClassUID == _DICOMDIR_CLASS:
        return None
    return ds


class SliceDatasets(Sequence[Dataset]):
    """The full headers (no pixel data) of a series' slices, in slice order, each read from
    its file when first used.

    Parameters
    ----------
    headers
        What the fast header scan read of each slice (:class:`.SliceHeader`), in slice order.
    geometry
        The voxel grid the slices describe (from ``headers``), or None.
    """

    def __init__(self, headers: Sequence[SliceHeader], geometry: Geometry | None) -> None:
        self.headers = list(headers)
        self.geometry = geometry
        self._read: list[Dataset | None] = [None] * len(self.headers)

    @property
    def files(self) -> list[Path]:
        """The slices' files, in slice order."""
        return [header.path for header in self.headers]

    def __len__(self) -> int:
        return len(self.headers)

    @overload
    def __getitem__(self, index: int) -> Dataset: ...

    @overload
    def __getitem__(self, index: slice) -> list[Dataset]: ...

    def __getitem__(self, index: int | slice) -> Dataset | list[Dataset]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = range(len(self))[operator.index(index)]  # IndexError as a list's
        ds = self._read[index]
        if ds is None:
            path = self.headers[index].path
            ds = read_dicom_headers(path)
            if ds is None:  # it was DICOM when scanned
                raise DicomRegError(f"'{path}', a slice of the series scanned in "
                                    f"'{path.parent}', is no longer readable DICOM")
            self._read[index] = ds
        return ds

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        if isinstance(other, SliceDatasets) and self.files == other.files:
            return True
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # compared by content, as the list it replaces

    def __repr__(self) -> str:
        where = f" of '{self.headers[0].path.parent}'" if self.headers else ""
        return f"SliceDatasets({len(self)} slice(s){where})"


def dataset_files(datasets: Sequence[Dataset]) -> list[str]:
    """The files the headers were read from (those read from a file), in order; those of
    :class:`SliceDatasets` without reading them."""
    if isinstance(datasets, SliceDatasets):
        return [str(path) for path in datasets.files]
    names = (getattr(ds, "filename", None) for ds in datasets)
    return [name for name in names if isinstance(name, str) and name]


def series_geometry(datasets: list[Dataset]) -> Geometry | None:
    """The voxel grid of a single-frame series; None when the headers lack geometry."""
    first = datasets[0]
    if any(ds.get("ImagePositionPatient") is None for ds in datasets) or "Rows" not in first:
        return None
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in datasets])
    return Geometry.from_slices(first.get("ImageOrientationPatient"), first.get("PixelSpacing"),
                                positions, int(first.Rows), int(first.Columns),
                                float(first.get("SpacingBetweenSlices")
                                      or first.get("SliceThickness") or 1.0))


def _functional(ds: Dataset, frame: int, sequence: str, keyword: str) -> object:
    """A functional group value of one frame: per-frame if given there, else shared."""
    for groups in (ds.get("PerFrameFunctionalGroupsSequence"),
                   ds.get("SharedFunctionalGroupsSequence")):
        if not groups:
            continue
        group = groups[frame] if len(groups) > 1 else groups[0]
        inner = group.get(sequence)
        if inner and keyword in inner[0]:
            return inner[0].get(keyword)
    return None


def multiframe_geometry(ds: Dataset) -> Geometry | None:
    """The voxel grid of an enhanced multi-frame instance, from its functional groups;
    None when they do not describe one volume."""
    frames = int(ds.get("NumberOfFrames") or 1)
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if frames > 1 and (per_frame is None or len(per_frame) != frames):
        # A count read from the file is checked against what the file holds, before a loop
        # over it: 1e9 frames claimed by a file of three.
        raise DicomRegError(f"instance {ds.get('SOPInstanceUID', '')}: Number of Frames "
                            f"{frames} but {len(per_frame or [])} per-frame functional groups; "
                            "expected one group per frame")
    positions = [_functional(ds, i, "PlanePositionSequence", "ImagePositionPatient")
                 for i in range(frames)]
    if any(p is None for p in positions) or "Rows" not in ds:
        return None
    spacing = _functional(ds, 0, "PixelMeasuresSequence", "PixelSpacing")
    between = _functional(ds, 0, "PixelMeasuresSequence", "SpacingBetweenSlices")
    thickness = _functional(ds, 0, "PixelMeasuresSequence", "SliceThickness")
    return Geometry.from_slices(
        _functional(ds, 0, "PlaneOrientationSequence", "ImageOrientationPatient"), spacing,
        np.array([[float(v) for v in p] for p in positions]), int(ds.Rows), int(ds.Columns),
        float(between or thickness or 1.0))


def dicom_geometry(datasets: Sequence[Dataset]) -> Geometry | None:
    """The voxel grid the headers describe: a multi-frame instance's or a series'."""
    if isinstance(datasets, SliceDatasets):  # computed from the scanned headers
        return datasets.geometry
    if not datasets:
        return None
    if len(datasets) == 1 and int(datasets[0].get("NumberOfFrames") or 1) > 1:
        return multiframe_geometry(datasets[0])
    return series_geometry(datasets)
