"""DICOM images as inheritance and reference sources: headers only, never pixel data.

:func:`read_series` reads a DICOM file, or a directory holding one series, into an
:class:`~dicomreg.core.image.Image` without voxels: its datasets (sorted along the slice
normal) and its geometry.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from .errors import DicomRegError
from .image import Geometry, Image

__all__ = ["DicomSourceError", "read_dicom_headers", "read_series", "series_geometry"]

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


def _normal(ds: Dataset) -> np.ndarray | None:
    orientation = ds.get("ImageOrientationPatient")
    if orientation is None or len(orientation) != 6:
        return None
    row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    return np.cross(row, col)


def series_geometry(datasets: list[Dataset]) -> Geometry | None:
    """The voxel grid of a sorted single-frame series; None when the headers lack geometry."""
    first = datasets[0]
    normal = _normal(first)
    spacing_xy = first.get("PixelSpacing")
    position = first.get("ImagePositionPatient")
    if normal is None or spacing_xy is None or position is None or "Rows" not in first:
        return None
    if len(datasets) > 1:
        positions = np.array([_slice_position(ds, normal) for ds in datasets])
        steps = np.diff(positions)
        slice_spacing = float(np.mean(steps)) if len(steps) else 1.0
    else:
        slice_spacing = float(first.get("SpacingBetweenSlices") or first.get("SliceThickness")
                              or 1.0)
    orientation = np.asarray(first.ImageOrientationPatient, float)
    direction = np.column_stack([orientation[:3], orientation[3:], normal])
    return Geometry(
        size=(int(first.Columns), int(first.Rows), len(datasets)),
        spacing=(float(spacing_xy[1]), float(spacing_xy[0]), abs(slice_spacing) or 1.0),
        origin=tuple(float(v) for v in position),
        direction=tuple(float(v) for v in direction.ravel()),
    )


def _describe_series(datasets: list[Dataset]) -> str:
    first = datasets[0]
    text = f"{first.get('SeriesInstanceUID', '?')} ({first.get('Modality', '?')}"
    if first.get("SeriesDescription"):
        text += f" '{first.SeriesDescription}'"
    return text + f", {len(datasets)} file(s))"


def read_series(path: str | os.PathLike[str]) -> Image:
    """Read the headers of a DICOM file or of a directory (searched recursively) with one series.

    Returns
    -------
    Image
        No voxels; ``datasets`` sorted along the slice normal (then by Instance Number);
        ``geometry`` when the headers define one.

    Raises
    ------
    DicomSourceError
        If the path is missing, holds no DICOM instance, or holds more than one series.
    """
    path = Path(path)
    accepted = "expected a DICOM file or a directory holding one series"
    if not path.exists():
        raise DicomSourceError(f"DICOM source '{path}' does not exist; {accepted}")
    if path.is_file():
        ds = read_dicom_headers(path)
        if ds is None:
            raise DicomSourceError(f"'{path}' is not a DICOM instance; {accepted}")
        datasets = [ds]
    else:
        by_series: dict[str, dict[str, Dataset]] = defaultdict(dict)
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            ds = read_dicom_headers(file)
            if ds is not None:
                # The same instance stored twice counts once.
                by_series[str(ds.get("SeriesInstanceUID", ""))][str(ds.SOPInstanceUID)] = ds
        if not by_series:
            raise DicomSourceError(f"directory '{path}' holds no DICOM instance; {accepted}")
        if len(by_series) > 1:
            listed = "; ".join(_describe_series(list(s.values())) for s in by_series.values())
            raise DicomSourceError(
                f"directory '{path}' holds {len(by_series)} series ({listed}); {accepted}"
            )
        datasets = list(next(iter(by_series.values())).values())
    normal = _normal(datasets[0])
    if normal is not None:
        datasets.sort(key=lambda ds: (_slice_position(ds, normal), int(ds.get("InstanceNumber")
                                                                       or 0)))
    else:
        datasets.sort(key=lambda ds: int(ds.get("InstanceNumber") or 0))
    multi_frame = int(datasets[0].get("NumberOfFrames") or 1) > 1
    geometry = None if multi_frame else series_geometry(datasets)
    return Image(voxels=None, geometry=geometry, datasets=datasets, source=str(path))
