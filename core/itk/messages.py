"""What ITK says when it fails, in one line.

ITK's exceptions are long (a source location, then the reason on the last line), and its
readers let their libraries write diagnostics straight to file descriptor 2: HDF5 prints a
25-line stack for a damaged transform file. A command's error must be one line, so
:func:`itk_reason` keeps the reason, and :func:`native_stderr` runs a read with descriptor 2
sent to a temporary file, keeping the lines for the message (HDF5 names a truncation there,
ITK's exception does not).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["itk_reason", "native_stderr"]

_LOCK = threading.Lock()  # descriptor 2 is the process's: one redirection at a time


@contextmanager
def native_stderr() -> Iterator[list[str]]:
    """Collect the lines written to descriptor 2 during the block.

    The list yielded is filled when the block ends. Where the descriptor cannot be redirected
    (no descriptor 2), the block runs as it is and the list stays empty.
    """
    lines: list[str] = []
    with _LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            yield lines
            return
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield lines
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                lines.extend(sink.read().decode("utf-8", "replace").splitlines())


def itk_reason(error: RuntimeError, diagnostics: list[str] | None = None) -> str:
    """Why ITK failed, in a line: its exception's last line without the prefixes, or, where
    the libraries' ``diagnostics`` (from :func:`native_stderr`) say more, that."""
    truncated = re.search(r"truncated file: eof = (\d+).*?stored_eof = (\d+)",
                          "\n".join(diagnostics or []))
    if truncated:
        return (f"the HDF5 file is truncated, {truncated.group(1)} of its "
                f"{truncated.group(2)} bytes are there")
    text = str(error)
    if "Could not create Transform IO object" in text:  # ITK's words when nothing reads it
        return "no ITK transform reader takes it (a damaged file, or another kind of file)"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[-1] if lines else "unknown reason"
    reason = re.sub(r"^(\[\w+\]\s*)?(sitk::ERROR:|ITK ERROR:)?\s*", "", reason)
    return re.sub(r"^\w+\(0x[0-9a-fA-F]+\):\s*", "", reason)[:200]  # an object's address
