"""Helpers for the benchmarks: synthetic data of a given size, and measured runs.

Each measured command runs in its own process; its wall time and its own peak resident
memory (``os.wait4``'s rusage of that child alone) are reported.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"


def machine() -> str:
    """One line about the machine the numbers come from."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{memory:.0f} GiB, Python {platform.python_version()}, numpy {np.__version__}")


def field_file(size: tuple[int, int, int], name: str | None = None) -> Path:
    """A random float32 displacement field of size (X, Y, Z) as .mha, made once and cached.

    It is made in a child process: Linux keeps a process's peak memory across fork and exec,
    so a measuring parent that held the field would report it as every child's peak.
    """
    CACHE.mkdir(exist_ok=True)
    path = CACHE / (name or f"field_{size[0]}x{size[1]}x{size[2]}.mha")
    if not path.exists():
        subprocess.run(python(
            "import numpy as np, SimpleITK as sitk",
            f"v = np.random.default_rng(0).standard_normal({(size[2], size[1], size[0], 3)}, "
            "dtype=np.float32)",
            "image = sitk.GetImageFromArray(v, isVector=True)",
            "image.SetSpacing((1.0, 1.0, 2.5))",
            f"sitk.WriteImage(image, {str(path)!r})"), check=True)
    return path


def measure(command: list[str], repeat: int = 3) -> tuple[float, float]:
    """(median wall seconds, largest peak RSS in MB) of ``command`` run ``repeat`` times."""
    walls, peaks = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - started)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"failed: {' '.join(command)}")
        peaks.append(usage.ru_maxrss / 1024)  # kB on Linux
    return statistics.median(walls), max(peaks)


def python(*code: str) -> list[str]:
    """A command running Python code in this interpreter."""
    return [sys.executable, "-c", "\n".join(code)]


def dicomreg(*args: str) -> list[str]:
    """A command running the dicomreg command line with this interpreter."""
    return [sys.executable, "-m", "dicomreg.core.cli", *args]
