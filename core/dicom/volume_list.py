"""Volume lists: what the original's DirectDicomImport gives, scanned from a directory.

:func:`scan_volumes` walks a directory (recursively) in one pass, reading of each file only
the attributes that group, sort and describe it (:mod:`.header_scan`: no pixel data, no
pydicom for ordinary files). Instances are grouped into volumes by study, series, frame of
reference, image orientation, pixel spacing, matrix size, echo and temporal position; the
multi-frame instances of one such group are one volume too (a series stored as several
multi-frame files, in Instance Number order), never mixed with single-frame slices;
instances that are not images (a REG, a structure set, a report) are passed over. Slices
are sorted along the slice normal. This is
what the ``inputBase`` connector takes, what ``numVolumes`` counts and ``inputVolumeIndex``
selects, and what ``dicomreg scan`` lists. A volume's full headers are read only when its
image is asked for.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dicomreg.core.dicom.header_scan import HeaderValueError, SliceHeader, read_slice_header
from dicomreg.core.errors import DicomRegError
from dicomreg.core.input import is_regular_file

if TYPE_CHECKING:  # imported where used: a scan alone needs neither numpy nor pydicom
    from pydicom.dataset import Dataset

    from dicomreg.core.image import Geometry, Image

__all__ = ["Volume", "VolumeList", "VolumeError", "read_volume", "scan_volumes",
           "series_slices_beside"]


class VolumeError(DicomRegError):
    """A directory or volume that cannot be used; the message says why and what is accepted."""


class Volume:
    """One volume: a series' slices of one geometry, or its multi-frame instances."""

    def __init__(self, headers: list[SliceHeader], geometry: Geometry | None = None) -> None:
        self.headers = headers
        self._geometry = geometry

    @property
    def multiframe(self) -> bool:
        """Whether the volume is made of multi-frame instances."""
        return self.headers[0].number_of_frames > 1

    @property
    def files(self) -> list[Path]:
        """The files, in slice order."""
        return [h.path for h in self.headers]

    @property
    def number_of_frames(self) -> int:
        """Slices of a series, or frames of its multi-frame instances (all of them)."""
        if self.multiframe:
            return sum(h.number_of_frames for h in self.headers)
        return len(self.headers)

    @cached_property
    def datasets(self) -> Sequence[Dataset]:
        """Every file's full header (no pixel data), in slice order: a series' slices each
        read on first use (:class:`~.series.SliceDatasets`), multi-frame instances at once."""
        from dicomreg.core.dicom.series import SliceDatasets, read_dicom_headers

        if not self.multiframe:
            return SliceDatasets(self.headers, self.geometry)
        datasets = [read_dicom_headers(path) for path in self.files]
        if any(ds is None for ds in datasets):
            raise VolumeError(f"a file of the volume in '{self.files[0].parent}' is no longer "
                              "readable DICOM")
        return datasets

    @property
    def first(self) -> Dataset:
        """The first slice's (or the multi-frame instance's) full header."""
        return self.datasets[0]

    @cached_property
    def geometry(self) -> Geometry | None:
        """The volume's voxel grid, None when its headers do not describe one."""
        import numpy as np

        from dicomreg.core.image import Geometry

        if self._geometry is not None:
            return self._geometry
        if self.multiframe:
            # Several instances of one series share its grid here (they were grouped by
            # orientation, spacing and size): the first one's frames describe it.
            from dicomreg.core.dicom.series import multiframe_geometry

            return multiframe_geometry(self.first)
        first = self.headers[0]
        if any(h.image_position is None for h in self.headers) or not first.rows:
            return None
        for header in self.headers:
            if len(header.image_position) != 3 or not all(
                    np.isfinite(float(v)) for v in header.image_position):
                raise VolumeError(f"instance {header.sop_instance_uid}: its Image Position "
                                  f"(Patient) {list(header.image_position)} is not three "
                                  "finite numbers")
        positions = np.array([h.image_position for h in self.headers], float)
        return Geometry.from_slices(first.image_orientation, first.pixel_spacing, positions,
                                    first.rows, first.columns,
                                    first.spacing_between_slices or first.slice_thickness
                                    or 1.0)

    def image(self) -> Image:
        """The volume as an image without voxels: its full headers (a series' slices read
        when used, the first one now: what inheritance copies from, and whatever is wrong
        with it said here) and its geometry."""
        from dicomreg.core.image import Image

        files = self.files
        datasets = self.datasets
        datasets[0]  # noqa: B018  # read now
        return Image(voxels=None, geometry=self.geometry,
                     datasets=datasets if not self.multiframe else list(datasets),
                     source=str(files[0].parent if len(files) > 1 else files[0]))

    def describe(self) -> str:
        """modality, 'description', N slices/frames, and the echo or temporal position that
        tells apart the volumes of one series."""
        first = self.headers[0]
        text = first.modality or "?"
        if first.series_description:
            text += f" '{first.series_description}'"
        if self.multiframe and len(self.headers) > 1:
            text += f", {len(self.headers)} multi-frame instances"
        text += f", {self.number_of_frames} {'frame(s)' if self.multiframe else 'slice(s)'}"
        if first.echo_numbers:
            text += f", echo {first.echo_numbers}"
        if first.temporal_position:
            text += f", temporal position {first.temporal_position}"
        return text


class VolumeList(list[Volume]):
    """The volumes found under one directory, in a stable order (study, series, position)."""

    def __init__(self, volumes: Iterable[Volume] = (), source: str = "",
                 damaged: Iterable[Path] = (), skipped: Iterable[Path] = ()) -> None:
        super().__init__(volumes)
        self.source = source
        #: files that carry the DICOM marker but whose header could not be read: a series
        #: they belonged to is incomplete (which one cannot be told)
        self.damaged = list(damaged)
        #: names that are not regular files (FIFOs, devices, sockets, links to them), passed
        #: over unread: reading one would never end
        self.skipped = list(skipped)

    def notes(self) -> list[str]:
        """What the scan passed over, one note each: damaged files, non-regular files."""
        notes = [_damaged_note(self)] if self.damaged else []
        if self.skipped:
            notes.append(f"skipped {len(self.skipped)} name(s) under '{self.source}' that are "
                         f"not regular files (FIFOs, devices, sockets; first: "
                         f"{self.skipped[0]}); only regular files are read")
        return notes

    def select(self, index: int, what: str = "inputVolumeIndex") -> Volume:
        """The volume at ``index``; a clear error naming the valid range otherwise."""
        if not self:
            raise VolumeError(f"{what}: '{self.source}' holds no DICOM volume")
        if not 0 <= index < len(self):
            raise VolumeError(f"{what}: volume {index} does not exist; '{self.source}' "
                              f"holds volumes 0 to {len(self) - 1}")
        return self[index]

    def table(self) -> str:
        """One entry per volume: index, modality, description, slices, series, frame, study."""
        lines = []
        for index, volume in enumerate(self):
            first = volume.headers[0]
            study = f"     study {first.study_instance_uid or '?'}"
            if first.study_description:
                study += f" '{first.study_description}'"
            lines.append(f"{index:3d}  {volume.describe()}\n"
                         f"     series {first.series_instance_uid or '?'}\n"
                         f"     frame of reference {first.frame_of_reference_uid or '(none)'}"
                         f"\n{study}")
        return "\n".join(lines)


def _rounded(values: tuple[float, ...] | None) -> tuple[float, ...]:
    return () if values is None else tuple(round(v, 4) for v in values)


def _volume_key(header: SliceHeader) -> tuple:
    return (header.study_instance_uid, header.series_instance_uid,
            header.frame_of_reference_uid, _rounded(header.image_orientation),
            _rounded(header.pixel_spacing), header.rows, header.columns, header.echo_numbers,
            header.temporal_position)


def _sorted(headers: list[SliceHeader]) -> list[SliceHeader]:
    """Along the slice normal (then by Instance Number); by Instance Number without one."""
    orientation = headers[0].image_orientation
    if orientation is None or len(orientation) != 6:
        return sorted(headers, key=lambda h: h.instance_number)
    (a, b, c), (d, e, f) = orientation[:3], orientation[3:]
    normal = (b * f - c * e, c * d - a * f, a * e - b * d)  # row x column

    def along(header: SliceHeader) -> tuple[float, int]:
        position = header.image_position
        if not position or len(position) != 3:
            return 0.0, header.instance_number
        return sum(p * n for p, n in zip(position, normal, strict=True)), header.instance_number

    return sorted(headers, key=along)


_SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")  # endless or blocking "files", never DICOM


def _system(path: Path) -> bool:
    resolved = str(path.resolve())
    return any(resolved == f or resolved.startswith(f + "/") for f in _SYSTEM_FOLDERS)


def _files(path: Path, skipped: list[Path]) -> Iterable[Path]:
    """The regular files of ``path`` (itself, or below it): a FIFO, a device or a link to one
    inside a series folder is skipped (added to ``skipped``), since reading it would never
    end."""
    if _system(path):
        raise VolumeError(f"DICOM source '{path}' is a system folder ({path.resolve()}); "
                          "expected a DICOM file or a directory of them")
    if path.is_file():
        yield path
        return
    for root, directories, names in os.walk(path):
        directories.sort()
        for name in sorted(names):
            file = Path(root) / name
            # Only a link can lead out of the walked tree (os.walk follows no directory
            # link, and the tree itself is no system folder): only links are resolved.
            if is_regular_file(file) and not (file.is_symlink() and _system(file)):
                yield file
            elif not file.is_symlink() or file.exists():  # a dangling link is no file at all
                skipped.append(file)


def scan_volumes(path: str | os.PathLike[str],
                 progress: Callable[[float], bool] | None = None) -> VolumeList:
    """Scan a DICOM file or a directory (recursively) into volumes, headers only.

    ``progress`` sees the fraction of files read and may cancel by returning False.

    Raises
    ------
    VolumeError
        If the path does not exist, a single file given is not DICOM, or the scan was
        cancelled.
    """
    path = Path(path)
    if not path.exists():
        raise VolumeError(f"DICOM source '{path}' does not exist; expected a DICOM file or a "
                          "directory")
    groups: dict[tuple, dict[str, SliceHeader]] = defaultdict(dict)
    damaged: list[Path] = []
    skipped: list[Path] = []
    files = list(_files(path, skipped))
    for number, file in enumerate(files, 1):
        if progress is not None and number % 64 == 0 and not progress(number / len(files)):
            raise VolumeError(f"the scan of '{path}' was cancelled")
        try:
            header = read_slice_header(file)
        except HeaderValueError:
            if path.is_file():
                raise
            damaged.append(file)  # named by the damaged note: its series may be incomplete
            continue
        if header is None or header.sop_class_uid == "1.2.840.10008.1.3.10":  # DICOMDIR
            if path.is_file():
                raise VolumeError(f"'{path}' is not a DICOM instance; expected a DICOM file "
                                  "or a directory")
            if header is None and _has_dicom_marker(file):
                damaged.append(file)
            continue
        if not header.rows:  # not an image (a REG, a structure set, a report): no volume
            if path.is_file():
                raise VolumeError(f"'{path}' is a {header.modality or 'non-image'} instance, "
                                  "not an image; expected a DICOM image or a directory")
            continue
        # The same instance stored twice counts once; multi-frame instances group apart.
        multiframe = header.number_of_frames > 1
        groups[(multiframe, *_volume_key(header))][header.sop_instance_uid] = header
    volumes = [Volume(sorted(members.values(), key=lambda h: h.instance_number) if key[0]
                      else _sorted(list(members.values())))
               for key, members in groups.items()]
    volumes.sort(key=lambda v: (v.headers[0].study_date, v.headers[0].study_instance_uid,
                                v.headers[0].series_number, v.headers[0].series_instance_uid,
                                _rounded(v.headers[0].image_position)))
    return VolumeList(volumes, source=str(path), damaged=damaged, skipped=skipped)


def _has_dicom_marker(path: Path) -> bool:
    """Whether a file has the Part 10 marker ('DICM' after the 128-byte preamble)."""
    try:
        with path.open("rb") as stream:
            stream.seek(128)
            return stream.read(4) == b"DICM"
    except OSError:
        return False


def _damaged_note(volumes: VolumeList) -> str:
    if not volumes.damaged:
        return ""
    return (f"{len(volumes.damaged)} file(s) under '{volumes.source}' carry the DICOM marker "
            f"but could not be read (first: {volumes.damaged[0]}); a series they belong to is "
            "incomplete here")


def read_volume(path: str | os.PathLike[str], index: int | None = None,
                what: str = "volume", notes: list[str] | None = None) -> Image:
    """The image (full headers and geometry) of one volume under ``path``.

    Without ``index`` the path must hold exactly one volume; otherwise the error lists them
    with their indexes. ``notes``, when given, receives a note naming the non-regular files
    the scan skipped.
    """
    volumes = scan_volumes(path)
    if notes is not None and volumes.skipped:
        notes.append(volumes.notes()[-1])
    if not volumes:
        raise VolumeError(f"'{path}' holds no DICOM instance; expected a DICOM file or a "
                          "directory holding one series")
    if index is None:
        if len(volumes) > 1:
            listed = "; ".join(f"{i}: {v.describe()} {v.headers[0].series_instance_uid}"
                               for i, v in enumerate(volumes))
            raise VolumeError(f"'{path}' holds {len(volumes)} volumes ({listed}); choose one "
                              f"with its {what} index")
        index = 0
    image = volumes.select(index, what).image()
    image.reading_note = _damaged_note(volumes)
    return image


def series_slices_beside(path: str | os.PathLike[str]) -> int:
    """How many slices of the series of the single-frame file ``path`` lie in its folder.

    A user who names one file of a series usually means the series; this count lets the
    caller say so. Only the file's own folder is read (headers only), not below it.
    """
    path = Path(path)
    header = read_slice_header(path) if is_regular_file(path) else None
    if header is None or header.number_of_frames > 1 or not header.series_instance_uid:
        return 0
    uids = set()
    for sibling in path.parent.iterdir():
        if is_regular_file(sibling):
            try:
                other = read_slice_header(sibling)
            except HeaderValueError:  # a damaged neighbour is not a slice of the series
                continue
            if other is not None and other.series_instance_uid == header.series_instance_uid:
                uids.add(other.sop_instance_uid)
    return len(uids)
