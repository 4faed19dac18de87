"""How many processor cores this process may use: its CPU affinity, not the machine's count.

A container, ``taskset`` or a batch scheduler often gives a process fewer cores than the
machine has; threads beyond those only wait for each other.
"""

from __future__ import annotations

import os

__all__ = ["usable_cores"]


def usable_cores() -> int:
    """The number of cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform (macOS, Windows)
        return os.cpu_count() or 1
