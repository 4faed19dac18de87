"""What C libraries print on the process's standard error, collected instead of shown.

ITK's readers let their libraries write diagnostics straight to file descriptor 2: HDF5 prints
a 25-line stack for a damaged transform file, MetaIO a line for a bad stream. A command's
error must be one line, so the reads run with descriptor 2 sent to a temporary file, and the
lines are kept for the message (HDF5 names a truncation there, ITK's exception does not).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["native_stderr"]

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
