"""How many processor cores this process may use: its CPU affinity and its control group's
CPU quota, not the machine's count.

A container, ``taskset`` or a batch scheduler often gives a process fewer cores than the
machine has (``docker --cpus=2`` on a 64-core host sets a quota and leaves the affinity
whole); threads beyond those only wait for each other.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["usable_cores"]

# cgroup v2's "quota period" (or "max"), then v1's two files
_CGROUP_V2 = Path("/sys/fs/cgroup/cpu.max")
_CGROUP_V1 = (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
              Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))


def _quota_cores() -> int | None:
    """The cores the control group's CPU quota allows, rounded up; None without a quota."""
    try:
        if _CGROUP_V2.exists():
            quota, period = _CGROUP_V2.read_text().split()[:2]
        else:
            quota, period = (path.read_text().strip() for path in _CGROUP_V1)
        if quota in ("max", "-1"):
            return None
        return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError, ZeroDivisionError):
        return None


def usable_cores() -> int:
    """The number of cores this process may run on (at least 1)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this platform (macOS, Windows)
        cores = os.cpu_count() or 1
    quota = _quota_cores()
    return cores if quota is None else min(cores, quota)
