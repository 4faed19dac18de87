"""Progress of long work on stderr, when stderr is a terminal: a person watching sees the
work move; a pipe, a log file or a batch worker gets nothing (no bar characters in logs)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["terminal_progress"]


@contextmanager
def terminal_progress(description: str, quiet: bool = False
                      ) -> Iterator[Callable[[float], bool] | None]:
    """A ``progress(fraction) -> True`` callback drawing a bar on a terminal's stderr; None
    (no callback, nothing drawn) when stderr is not a terminal or ``quiet``."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    # A terminal that reports no size (a fresh pseudo-terminal) gets no bar at all from tqdm
    # (it thinks the bar is below the last row): shutil's answer falls back to 80x24 then.
    size = shutil.get_terminal_size()
    bar = tqdm(total=100, desc=description, unit="%", file=sys.stderr, leave=False,
               ncols=size.columns, nrows=size.lines,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")

    def progress(fraction: float) -> bool:
        bar.update(max(0, round(100 * fraction) - bar.n))
        return True

    try:
        yield progress
    finally:
        bar.close()
