"""Volume lists: what the original's DirectDicomImport gives, scanned from a directory.

:func:`scan_volumes` walks a directory (recursively), reads headers only (it stops before
pixel data), and groups the instances into volumes: by series, frame of reference, image
orientation, pixel spacing, matrix size, echo and temporal position; a multi-frame file is a
volume of its own. Slices are sorted along the slice normal. This is what the ``inputBase``
connector takes, what ``numVolumes`` counts and ``inputVolumeIndex`` selects, and what
``dicomreg scan`` lists.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from .dicom_series import (
    DicomSourceError,
    multiframe_geometry,
    read_dicom_headers,
    series_geometry,
    sort_slices,
)
from .image import Geometry, Image

__all__ = ["Volume", "VolumeList", "read_volume", "scan_volumes"]


@dataclass
class Volume:
    """One volume: a series' slices of one geometry, or one multi-frame instance."""

    datasets: list[Dataset]
    files: list[Path]
    geometry: Geometry | None

    @property
    def first(self) -> Dataset:
        """The first slice's (or the multi-frame instance's) header."""
        return self.datasets[0]

    @property
    def number_of_frames(self) -> int:
        """Slices of a series, or frames of a multi-frame instance."""
        if len(self.datasets) == 1:
            return int(self.first.get("NumberOfFrames") or 1)
        return len(self.datasets)

    def image(self) -> Image:
        """The volume as an image without voxels (headers and geometry)."""
        return Image(voxels=None, geometry=self.geometry, datasets=list(self.datasets),
                     source=str(self.files[0].parent if len(self.files) > 1 else self.files[0]))

    def describe(self) -> str:
        """modality, 'description', N slices/frames."""
        first = self.first
        what = "frame(s)" if len(self.datasets) == 1 and self.number_of_frames > 1 else "slice(s)"
        text = str(first.get("Modality", "?"))
        if first.get("SeriesDescription"):
            text += f" '{first.SeriesDescription}'"
        return f"{text}, {self.number_of_frames} {what}"


class VolumeList(list[Volume]):
    """The volumes found under one directory, in a stable order (study, series, position)."""

    def __init__(self, volumes: Iterable[Volume] = (), source: str = "") -> None:
        super().__init__(volumes)
        self.source = source

    def select(self, index: int, what: str = "inputVolumeIndex") -> Volume:
        """The volume at ``index``; a clear error naming the valid range otherwise."""
        if not self:
            raise DicomSourceError(f"{what}: '{self.source}' holds no DICOM volume")
        if not 0 <= index < len(self):
            raise DicomSourceError(f"{what}: volume {index} does not exist; '{self.source}' "
                                   f"holds volumes 0 to {len(self) - 1}")
        return self[index]

    def table(self) -> str:
        """One line per volume: index, modality, description, slices, series, frame, study."""
        lines = []
        for index, volume in enumerate(self):
            first = volume.first
            lines.append(
                f"{index:3d}  {volume.describe()}\n"
                f"     series {first.get('SeriesInstanceUID', '?')}\n"
                f"     frame of reference {first.get('FrameOfReferenceUID', '(none)')}\n"
                f"     study {first.get('StudyInstanceUID', '?')}"
                + (f" '{first.StudyDescription}'" if first.get("StudyDescription") else ""))
        return "\n".join(lines)


def _rounded(values: object, digits: int = 4) -> tuple[float, ...]:
    if values is None:
        return ()
    return tuple(round(float(v), digits) for v in values)  # type: ignore[attr-defined]


def _volume_key(ds: Dataset) -> tuple:
    return (
        str(ds.get("StudyInstanceUID", "")),
        str(ds.get("SeriesInstanceUID", "")),
        str(ds.get("FrameOfReferenceUID", "")),
        _rounded(ds.get("ImageOrientationPatient")),
        _rounded(ds.get("PixelSpacing")),
        int(ds.get("Rows") or 0), int(ds.get("Columns") or 0),
        str(ds.get("EchoNumbers", "")), str(ds.get("TemporalPositionIdentifier", "")),
    )


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file())


def scan_volumes(path: str | os.PathLike[str]) -> VolumeList:
    """Scan a DICOM file or a directory (recursively) into volumes, reading headers only.

    Raises
    ------
    DicomSourceError
        If the path does not exist, or a single file given is not DICOM.
    """
    path = Path(path)
    if not path.exists():
        raise DicomSourceError(f"DICOM source '{path}' does not exist; expected a DICOM file "
                               "or a directory")
    groups: dict[tuple, dict[str, tuple[Dataset, Path]]] = defaultdict(dict)
    volumes = []
    for file in _files(path):
        ds = read_dicom_headers(file)
        if ds is None:
            if path.is_file():
                raise DicomSourceError(f"'{path}' is not a DICOM instance; expected a DICOM "
                                       "file or a directory")
            continue
        if int(ds.get("NumberOfFrames") or 1) > 1:
            volumes.append(Volume([ds], [file], multiframe_geometry(ds)))
        else:
            # The same instance stored twice counts once.
            groups[_volume_key(ds)][str(ds.SOPInstanceUID)] = (ds, file)
    for members in groups.values():
        datasets, files = sort_slices([ds for ds, _ in members.values()],
                                      [f for _, f in members.values()])
        volumes.append(Volume(datasets, files, series_geometry(datasets)))
    volumes.sort(key=lambda v: (str(v.first.get("StudyDate", "")),
                                str(v.first.get("StudyInstanceUID", "")),
                                int(v.first.get("SeriesNumber") or 0),
                                str(v.first.get("SeriesInstanceUID", "")),
                                float(np.sum(v.geometry.origin)) if v.geometry else 0.0))
    return VolumeList(volumes, source=str(path))


def read_volume(path: str | os.PathLike[str], index: int | None = None,
                what: str = "volume") -> Image:
    """The image (headers and geometry) of one volume under ``path``.

    Without ``index`` the path must hold exactly one volume; otherwise the error lists them
    with their indexes.
    """
    volumes = scan_volumes(path)
    if not volumes:
        raise DicomSourceError(f"'{path}' holds no DICOM instance; expected a DICOM file or a "
                               "directory holding one series")
    if index is None:
        if len(volumes) > 1:
            listed = "; ".join(f"{i}: {v.describe()} {v.first.get('SeriesInstanceUID', '')}"
                               for i, v in enumerate(volumes))
            raise DicomSourceError(f"'{path}' holds {len(volumes)} volumes ({listed}); choose "
                                   f"one with its {what} index")
        index = 0
    return volumes.select(index, what).image()
