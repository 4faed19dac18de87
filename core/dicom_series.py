"""DICOM headers as inheritance and reference sources: reading them without pixel data, and
the voxel grid they describe (a series of slices, or an enhanced multi-frame instance).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from .errors import DicomRegError
from .image import Geometry

__all__ = [
    "DicomSourceError",
    "multiframe_geometry",
    "read_dicom_headers",
    "dicom_geometry",
    "series_geometry",
    "sort_slices",
]

_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"


class DicomSourceError(DicomRegError):
    """A DICOM source that cannot be used; the message says why and what is accepted."""


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


def _slice_position(ds: Dataset, normal: np.ndarray) -> float:
    position = ds.get("ImagePositionPatient")
    if position is None or len(position) != 3:
        return float(ds.get("InstanceNumber") or 0)
    return float(np.dot(np.asarray(position, dtype=float), normal))


def _normal(orientation: object) -> np.ndarray | None:
    if orientation is None or len(orientation) != 6:  # type: ignore[arg-type]
        return None
    values = np.asarray([float(v) for v in orientation], float)  # type: ignore[attr-defined]
    return np.cross(values[:3], values[3:])


def sort_slices(datasets: list[Dataset], files: list[Path]) -> tuple[list[Dataset], list[Path]]:
    """Slices sorted along their normal (then by Instance Number), files alongside."""
    normal = _normal(datasets[0].get("ImageOrientationPatient"))
    if normal is None:
        order = sorted(range(len(datasets)),
                       key=lambda i: int(datasets[i].get("InstanceNumber") or 0))
    else:
        order = sorted(range(len(datasets)), key=lambda i: (
            _slice_position(datasets[i], normal), int(datasets[i].get("InstanceNumber") or 0)))
    return [datasets[i] for i in order], [files[i] for i in order]


def _geometry(orientation: object, pixel_spacing: object, positions: np.ndarray,
              rows: int, columns: int, fallback_spacing: float) -> Geometry | None:
    normal = _normal(orientation)
    if normal is None or pixel_spacing is None or len(positions) == 0:
        return None
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    steps = np.diff(along[order])
    slice_spacing = float(np.mean(steps)) if len(steps) else fallback_spacing
    values = np.asarray([float(v) for v in orientation], float)  # type: ignore[attr-defined]
    direction = np.column_stack([values[:3], values[3:], normal])
    return Geometry(
        size=(columns, rows, len(positions)),
        spacing=(float(pixel_spacing[1]), float(pixel_spacing[0]),  # type: ignore[index]
                 abs(slice_spacing) or 1.0),
        origin=tuple(float(v) for v in positions[order[0]]),
        direction=tuple(float(v) for v in direction.ravel()),
    )


def series_geometry(datasets: list[Dataset]) -> Geometry | None:
    """The voxel grid of a single-frame series; None when the headers lack geometry."""
    first = datasets[0]
    if any(ds.get("ImagePositionPatient") is None for ds in datasets) or "Rows" not in first:
        return None
    positions = np.array([[float(v) for v in ds.ImagePositionPatient] for ds in datasets])
    return _geometry(first.get("ImageOrientationPatient"), first.get("PixelSpacing"),
                     positions, int(first.Rows), int(first.Columns),
                     float(first.get("SpacingBetweenSlices") or first.get("SliceThickness")
                           or 1.0))


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
    positions = [_functional(ds, i, "PlanePositionSequence", "ImagePositionPatient")
                 for i in range(frames)]
    if any(p is None for p in positions) or "Rows" not in ds:
        return None
    spacing = _functional(ds, 0, "PixelMeasuresSequence", "PixelSpacing")
    between = _functional(ds, 0, "PixelMeasuresSequence", "SpacingBetweenSlices")
    thickness = _functional(ds, 0, "PixelMeasuresSequence", "SliceThickness")
    return _geometry(_functional(ds, 0, "PlaneOrientationSequence", "ImageOrientationPatient"),
                     spacing, np.array([[float(v) for v in p] for p in positions]),
                     int(ds.Rows), int(ds.Columns), float(between or thickness or 1.0))


def dicom_geometry(datasets: list[Dataset]) -> Geometry | None:
    """The voxel grid the headers describe: a multi-frame instance's or a series'."""
    if not datasets:
        return None
    if len(datasets) == 1 and int(datasets[0].get("NumberOfFrames") or 1) > 1:
        return multiframe_geometry(datasets[0])
    return series_geometry(datasets)
