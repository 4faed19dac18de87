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

from dicomreg.core.errors import DicomRegError
from dicomreg.core.image import Geometry

__all__ = [
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


def dicom_geometry(datasets: list[Dataset]) -> Geometry | None:
    """The voxel grid the headers describe: a multi-frame instance's or a series'."""
    if not datasets:
        return None
    if len(datasets) == 1 and int(datasets[0].get("NumberOfFrames") or 1) > 1:
        return multiframe_geometry(datasets[0])
    return series_geometry(datasets)
