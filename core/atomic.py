"""Atomic output: a file appears whole at its target path, or not at all.

Everything is written into a hidden temporary directory beside the target (same file system,
so the final rename is atomic), flushed to disk, and only then moved into place. A failure at
any point, a full disk, or a killed process never leaves a partial file at the target path and
never touches an existing file there; at worst a hidden ``.NAME.*.partial`` directory remains
after a killed process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dicomreg.core.errors import DicomRegError

__all__ = ["OutputPathError", "atomic_output", "refuse_overwriting_inputs"]


class OutputPathError(DicomRegError):
    """An output path that cannot be written; the message says why."""


def check_output_path(target: Path) -> None:
    """Refuse an output path whose directory is missing or which names a directory."""
    if target.is_dir():
        raise OutputPathError(f"output '{target}' is a directory; expected a file path")
    if not target.parent.is_dir():
        raise OutputPathError(f"output directory '{target.parent}' does not exist")
    if not os.access(target.parent, os.W_OK):
        raise OutputPathError(f"output directory '{target.parent}' is not writable")


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
    except OSError:
        identity = None  # nothing there yet: only the same path can be the same file
    for what, source in inputs.items():
        if not source:
            continue
        source = Path(source)
        same = target.absolute() == source.absolute()
        if not same and identity is not None:
            try:
                same = os.path.samestat(identity, os.stat(source))
            except OSError:
                pass
        if same:
            raise OutputPathError(f"output '{target}' is {what}; writing it would destroy "
                                  "the input: choose another output path")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_output(target: str | os.PathLike[str],
                  verify: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path to write ``target`` to; move it into place on success.

    Every file written into the yielded path's directory is moved beside ``target`` (so a
    header/data pair such as .mhd/.raw works); the file named like ``target`` moves last.
    ``verify``, if given, is called with the complete temporary file before the move; an
    exception from it leaves the target untouched.
    """
    target = Path(target)
    check_output_path(target)
    workdir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial",
                                    dir=target.parent))
    try:
        temp_target = workdir / target.name
        yield temp_target
        if not temp_target.exists():
            raise OSError(f"nothing was written for '{target}'")
        if verify is not None:
            verify(temp_target)
        mode = 0o666 & ~_umask()
        produced = sorted(workdir.iterdir(), key=lambda p: p.name == target.name)
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
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
