"""The bounds a hostile input meets before anything is allocated or read.

Field files, transforms, modifiers files and DICOM series come from other tools and from
scanners; a small file must not exhaust the machine, and a name that is not a regular file
(a FIFO, ``/dev/zero``, a ``/proc`` entry) must not hang a read. Each rule has its home here:

- :func:`max_field_bytes`: the largest field (its voxels, in bytes) dicomreg allocates; by
  default half the machine's physical memory, raised or lowered with ``--max-field-size``
  (save, register, batch), a batch manifest's ``max_field_size`` column, a node's
  ``maxFieldSize`` setting (each through :func:`field_size_limit`, for one save or read) or
  the environment variable ``DICOMREG_MAX_FIELD_BYTES``;
- :func:`check_field_size`: a header's claim checked against that limit, and against what
  the file can hold (deflate expands at most 1032:1, so a compressed stream of ``n`` bytes
  cannot hold more than ``1032 n``);
- :func:`require_regular_file`: an input that is not a regular file is refused.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from dicomreg.core.errors import DicomRegError

__all__ = ["DEFLATE_MAX_RATIO", "ENVIRONMENT_VARIABLE", "InputLimitError",
           "check_field_size", "field_size_limit", "format_bytes", "is_regular_file",
           "limit_restored_after", "max_field_bytes", "parse_size", "require_regular_file",
           "set_max_field_bytes"]

ENVIRONMENT_VARIABLE = "DICOMREG_MAX_FIELD_BYTES"
DEFLATE_MAX_RATIO = 1032  # zlib's bound: a deflate stream never inflates more than this
_UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9,
          "GB": 10**9, "T": 10**12, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30,
          "TIB": 2**40}
_override: int | None = None  # set by --max-field-size for the process's commands
# One save's or one read's own limit (a manifest row, a node's setting): a context variable,
# so that the editor's background reads and a batch worker's cases keep theirs apart.
_scoped: ContextVar[int | None] = ContextVar("max_field_bytes", default=None)


class InputLimitError(DicomRegError):
    """An input beyond a bound: too large for the limit, or claiming more than it holds."""


def parse_size(text: str, where: str = "--max-field-size") -> int:
    """A size written as bytes with an optional unit (``500MB``, ``2GiB``, ``1e9``).

    Raises
    ------
    InputLimitError
        If the text is not a positive size.
    """
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?(?:[eE][0-9]+)?)\s*([A-Za-z]*)\s*",
                         str(text))
    unit = match.group(2).upper() if match else ""
    if match is None or unit not in _UNITS or float(match.group(1)) <= 0:
        raise InputLimitError(f"{where} {text!r} is not a size; expected a positive number "
                              "of bytes, with an optional unit (KB MB GB TB KiB MiB GiB TiB)")
    return int(float(match.group(1)) * _UNITS[unit])


def format_bytes(count: int) -> str:
    """A byte count for a message: ``12.9 GB (12884901888 bytes)``."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if count >= size:
            return f"{count / size:.1f} {unit} ({count} bytes)"
    return f"{count} bytes"


def set_max_field_bytes(limit: int | None) -> None:
    """Set the limit for this process (None: back to the environment's or the default)."""
    global _override
    _override = limit


@contextmanager
def limit_restored_after() -> Iterator[None]:
    """Within the block :func:`set_max_field_bytes` may change the process's limit; after
    it the limit is what it was before. One command's ``--max-field-size`` then ends with
    the command: ``main()`` is called again in one process by tests, a batch worker or a
    program that embeds dicomreg."""
    global _override
    before = _override
    try:
        yield
    finally:
        _override = before


@contextmanager
def field_size_limit(limit: int | str | None, where: str = "--max-field-size"
                     ) -> Iterator[None]:
    """Within the block, :func:`max_field_bytes` is ``limit`` (bytes, or a size as
    :func:`parse_size` reads it, named ``where`` in its refusal); None or an empty text
    leaves the limit as it is.

    Raises
    ------
    InputLimitError
        If ``limit`` is not a positive size.
    """
    if limit is None or (isinstance(limit, str) and not limit.strip()):
        yield
        return
    if isinstance(limit, int) and limit <= 0:
        raise InputLimitError(f"{where} {limit} is not a size; expected a positive number "
                              "of bytes")
    token = _scoped.set(limit if isinstance(limit, int) else parse_size(limit, where))
    try:
        yield
    finally:
        _scoped.reset(token)


def max_field_bytes() -> int:
    """The largest field dicomreg allocates: the block's (:func:`field_size_limit`), else the
    option's, else the environment's, else half of physical memory (4 GiB where the machine
    does not say)."""
    if _scoped.get() is not None:
        return _scoped.get()
    if _override is not None:
        return _override
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if text:
        return parse_size(text, ENVIRONMENT_VARIABLE)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def check_field_size(path: str | os.PathLike[str], claimed: int, *,
                     compressed_bytes: int | None = None, available: int | None = None) -> None:
    """Refuse a header's claim of ``claimed`` voxel bytes that the file cannot hold, or that
    is beyond :func:`max_field_bytes`, before anything is allocated.

    Parameters
    ----------
    compressed_bytes
        For a compressed stream: its stored size (it holds at most 1032 times as much).
    available
        For raw voxels: the bytes the file holds where they start.
    """
    if claimed < 0:
        raise InputLimitError(f"'{path}': its header claims a negative size; expected "
                              "positive dimensions")
    if compressed_bytes is not None and claimed > DEFLATE_MAX_RATIO * max(compressed_bytes, 1):
        raise InputLimitError(
            f"'{path}': its header claims {format_bytes(claimed)} of voxels but its "
            f"compressed stream of {format_bytes(compressed_bytes)} can hold at most "
            f"{format_bytes(DEFLATE_MAX_RATIO * max(compressed_bytes, 1))} (a damaged header)")
    if available is not None and claimed > available:
        raise InputLimitError(f"'{path}': its header claims {format_bytes(claimed)} of voxels "
                              f"but the file holds {format_bytes(max(available, 0))} (a "
                              "truncated file or a damaged header)")
    limit = max_field_bytes()
    if claimed > limit:
        raise InputLimitError(
            f"'{path}': the field takes {format_bytes(claimed)}, more than the limit of "
            f"{format_bytes(limit)}; raise it with --max-field-size or "
            f"{ENVIRONMENT_VARIABLE} if the machine can hold it")


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (after its links) is a regular file: not a FIFO, device, socket."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def require_regular_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path``, refused unless it is a regular file (after its links).

    Raises
    ------
    InputLimitError
        For a FIFO, a device (``/dev/zero``), a socket or a directory, or a missing file;
        the message says which.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputLimitError(f"{what} '{path}' does not exist") from None
    except OSError as error:
        raise InputLimitError(f"{what} '{path}' cannot be read ({error.strerror})") from None
    if stat.S_ISREG(mode):
        if str(path.resolve()).startswith("/proc/"):
            raise InputLimitError(f"{what} '{path}' is a /proc entry; expected a regular file")
        return path
    kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise InputLimitError(f"{what} '{path}' is {kind}; expected a regular file")
