"""Outputs: what may be written where, and writing it atomically.

The rule, for every file dicomreg writes (save, run, read, warp, batch, a flow, the panel):

- an output is a regular file or nothing yet: never a directory, a device, a FIFO, a socket
  or a symbolic link, and never a path holding a NUL;
- an existing file is replaced only when it is a file of the kind the output is (a DICOM
  Part 10 file for a REG, an image of the suffix's format for a field or a warped image, a
  Ryven project for a flow, a results table for a batch's results); anything else is refused
  with a message naming it and saying what would be replaced;
- an output is never one of the files it is made from (:func:`refuse_overwriting_inputs`).

Everything is written into a hidden temporary directory beside the target (same file system,
so the final rename is atomic), flushed to disk, and only then moved into place. A failure at
any point, a full disk, or a killed process never leaves a partial file at the target path and
never touches an existing file there. A killed process leaves its hidden directory behind; the
next write to the same directory removes it (see :mod:`dicomreg.core.output.partials`).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import stat
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import file_suffix
from dicomreg.core.output.partials import make_partial, remove_stale_partials

__all__ = ["DICOM_FILE", "IMAGE_FILE", "RYVEN_PROJECT", "OutputPathError", "Replaceable",
           "atomic_output", "check_output_path", "csv_table", "is_inside", "json_report",
           "refuse_overwriting_inputs"]


class OutputPathError(DicomRegError):
    """An output path that cannot be written; the message says why."""


def _head(path: Path, size: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def _sizeof_hdr(head: bytes, sizes: Sequence[int]) -> bool:
    """NIfTI-1/Analyze (348) or NIfTI-2 (540) header size, in either byte order."""
    return len(head) >= 4 and any(struct.unpack(order + "i", head[:4])[0] in sizes
                                  for order in "<>")


def _gzip_nifti(path: Path) -> bool:
    if _head(path, 2) != b"\x1f\x8b":
        return False
    try:
        with gzip.open(path, "rb") as handle:
            return _sizeof_hdr(handle.read(4), (348, 540))
    except (OSError, EOFError, zlib.error):
        return False


_META_KEY = re.compile(rb"\s*(ObjectType|NDims|ObjectSubType|Comment|TransformType|"
                       rb"BinaryData|CompressedData|DimSize)\s*=")


def _metaimage(path: Path) -> bool:
    head = _head(path, 64 * 1024)
    return bool(_META_KEY.match(head)) and re.search(rb"(^|\n)\s*NDims\s*=", head) is not None


# suffix -> (what such a file is, its test)
_IMAGE_FORMATS: dict[str, tuple[str, Callable[[Path], bool]]] = {
    ".mha": ("a MetaImage file (header keys such as ObjectType, NDims)", _metaimage),
    ".mhd": ("a MetaImage header (header keys such as ObjectType, NDims)", _metaimage),
    ".nrrd": ("an NRRD file (starting NRRD000)", lambda p: _head(p, 7) == b"NRRD000"),
    ".nhdr": ("an NRRD header (starting NRRD000)", lambda p: _head(p, 7) == b"NRRD000"),
    ".nii": ("a NIfTI file (sizeof_hdr 348 or 540)",
             lambda p: _sizeof_hdr(_head(p, 4), (348, 540))),
    ".nii.gz": ("a gzip-compressed NIfTI file", _gzip_nifti),
    ".hdr": ("an Analyze/NIfTI header (sizeof_hdr 348)",
             lambda p: _sizeof_hdr(_head(p, 4), (348,))),
    ".vtk": ("a legacy VTK file (starting '# vtk DataFile')",
             lambda p: _head(p, 14) == b"# vtk DataFile"),
}


@dataclass(frozen=True)
class Replaceable:
    """What an existing file at an output must be for the output to replace it.

    ``describe(path)`` says what such a file is (for the refusal); ``recognizes(path)`` tells
    whether the existing file at ``path`` is one, from its first bytes.
    """

    describe: Callable[[Path], str]
    recognizes: Callable[[Path], bool]


def _image_format(path: Path) -> tuple[str, Callable[[Path], bool]]:
    return _IMAGE_FORMATS.get(file_suffix(path), ("an image file", lambda _p: False))


DICOM_FILE = Replaceable(lambda _p: "a DICOM Part 10 file (a 128-byte preamble, then DICM)",
                         lambda p: _head(p, 132)[128:] == b"DICM")
IMAGE_FILE = Replaceable(lambda p: _image_format(p)[0], lambda p: _image_format(p)[1](p))


def _flow_project(path: Path) -> bool:
    head = _head(path, 1 << 24)  # a flow is some kilobytes; a big one is not ours
    return (re.match(rb"\s*\{", head) is not None and b'"Ryven project file"' in head
            and b'"flows"' in head)


RYVEN_PROJECT = Replaceable(
    lambda _p: 'a Ryven project file (JSON with "general info" and "flows")', _flow_project)


def csv_table(description: str, columns: Sequence[str]) -> Replaceable:
    """A CSV file whose header row is ``columns`` (a results table, say)."""
    header = ",".join(columns).encode()
    return Replaceable(lambda _p: f"{description} (a CSV file with the header {header.decode()})",
                       lambda p: _head(p, len(header) + 2).split(b"\n")[0].rstrip(b"\r")
                       == header)


def json_report(description: str, key: str) -> Replaceable:
    """A JSON object whose first key is ``key`` (a report of ours, say)."""
    start = re.compile(rb'\s*\{\s*"' + re.escape(key.encode()) + rb'"')
    return Replaceable(lambda _p: f'{description} (a JSON object starting with "{key}")',
                       lambda p: start.match(_head(p, 4096)) is not None)


_KINDS = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link",
          stat.S_IFDIR: "a directory"}


def _existing(path: Path, what: str) -> bool:
    """Whether ``path`` exists as a regular file; refuse anything else that is there."""
    if "\0" in str(path):
        raise OutputPathError(f"{what} {str(path)!r} holds a NUL character; a path never does")
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as error:
        raise OutputPathError(f"{what} '{path}' cannot be examined ({error.strerror})") from None
    if stat.S_ISREG(mode):
        return True
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise OutputPathError(f"{what} '{path}' is {kind}; an output is a regular file or a new "
                          "path, and nothing else is ever replaced")


def check_output_path(target: str | os.PathLike[str], replaces: Replaceable) -> bool:
    """Refuse an output path that breaks the rule (see the module); True if a file is there.

    Raises
    ------
    OutputPathError
        Naming the path and what an output may replace.
    """
    target = Path(target)
    there = _existing(target, "output")
    if not target.parent.is_dir():
        raise OutputPathError(f"output directory '{target.parent}' does not exist")
    if not os.access(target.parent, os.W_OK):
        raise OutputPathError(f"output directory '{target.parent}' is not writable")
    if there and not replaces.recognizes(target):
        raise OutputPathError(f"output '{target}' exists and is not {replaces.describe(target)}"
                              "; only such a file is replaced: remove it or choose another "
                              "path")
    return there


def is_inside(path: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies within ``folder`` once ``..`` and symbolic links are resolved."""
    try:
        return Path(path).resolve().is_relative_to(Path(folder).resolve())
    except (OSError, ValueError):  # a NUL, a loop of links: not shown to be inside
        return False


def refuse_overwriting_inputs(target: str | os.PathLike[str],
                              inputs: dict[str, str | os.PathLike[str] | None]) -> None:
    """Refuse an output that is one of the files it is made from.

    ``inputs`` maps what each input is ("the field file", "--moving") to its path (None or
    "" for an input not given). Writing over an input would destroy it on success, so such
    an output is refused before anything is read or written.
    """
    target = Path(target)
    try:
        identity = os.stat(target)  # once: a series may name thousands of inputs
    except (OSError, ValueError):
        identity = None  # nothing there yet: only the same path can be the same file
    for what, source in inputs.items():
        if not source:
            continue
        source = Path(source)
        same = target.absolute() == source.absolute()
        if not same and identity is not None:
            try:
                same = os.path.samestat(identity, os.stat(source))
            except (OSError, ValueError):
                pass
        if same:
            raise OutputPathError(f"output '{target}' is {what}; writing it would destroy "
                                  "the input: choose another output path")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_companions(target: Path, produced: list[Path], replacing: bool) -> None:
    """A header's data file (x.raw beside x.mhd) replaces a file only beside a header that is
    itself replaced, and never anything but a regular file."""
    for path in produced:
        if path.name == target.name:
            continue
        beside = target.parent / path.name
        if _existing(beside, f"output '{target}' also writes") and not replacing:
            raise OutputPathError(f"output '{target}' also writes '{beside}', which exists "
                                  f"while '{target.name}' does not; only the data file of a "
                                  "header that is replaced is replaced: remove it or choose "
                                  "another path")


def _move_into_place(target: Path, workdir: Path, replaces: Replaceable) -> None:
    mode = 0o666 & ~_umask()
    produced = sorted(workdir.iterdir(), key=lambda p: p.name == target.name)
    # Checked again just before the move: the path may have changed while we wrote.
    replacing = check_output_path(target, replaces)
    _check_companions(target, produced, replacing)
    for path in produced:
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(path, mode)
    for path in produced:
        os.replace(path, target.parent / path.name)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextmanager
def atomic_output(target: str | os.PathLike[str], verify: Callable[[Path], None] | None = None,
                  *, replaces: Replaceable) -> Iterator[Path]:
    """Yield a temporary path to write ``target`` to; move it into place on success.

    Every file written into the yielded path's directory is moved beside ``target`` (so a
    header/data pair such as .mhd/.raw works); the file named like ``target`` moves last.
    ``verify``, if given, is called with the complete temporary file before the move; an
    exception from it leaves the target untouched. ``replaces`` says what an existing file
    at ``target`` must be to be replaced (:func:`check_output_path`), checked before anything
    is written and again before the move.
    """
    target = Path(target)
    check_output_path(target, replaces)
    remove_stale_partials(target.parent)
    workdir = make_partial(target)
    try:
        temp_target = workdir / target.name
        yield temp_target
        if not temp_target.exists():
            raise OSError(f"nothing was written for '{target}'")
        if verify is not None:
            verify(temp_target)
        _move_into_place(target, workdir, replaces)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
