"""Helpers for the benchmarks: synthetic data of a given size, and measured runs.

Each measured command runs in its own process, after :func:`settle` (written data flushed,
page cache dropped when run as root) so that each starts from the same state; its wall time
and its own peak resident memory (``os.wait4``'s rusage of that child alone) are reported.
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
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


def require(tool: str, package: str) -> None:
    """Stop with one line when ``tool``, a benchmark's reference, is not on PATH."""
    if shutil.which(tool) is None:
        raise SystemExit(f"{tool} is not on PATH (apt-get install {package})")


def table_head(columns: list[str], about: str = "") -> None:
    """The machine line (with ``about`` after it), then a Markdown table's head."""
    print(f"machine: {machine()}{about}")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


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


def settle(drop_caches: bool = True) -> None:
    """Flush written data and (as root) drop the page cache: each measured run then starts
    from the same memory state. On this kind of machine, writing a new file into a full page
    cache was seen to take 1.4 s where it takes 0.1 s after a drop, whatever wrote it."""
    os.sync()
    if drop_caches:
        try:
            with open("/proc/sys/vm/drop_caches", "w") as handle:
                handle.write("1\n")
        except OSError:
            pass  # not root: flushed only


def run_once(command: list[str], drop_caches: bool = True) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds) of one run of ``command``, after
    :func:`settle`. CPU time (user + system) is steadier than wall on a shared machine."""
    settle(drop_caches)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # kB on Linux


def measure(command: list[str], repeat: int = 3, drop_caches: bool = True
            ) -> tuple[float, float]:
    """(median wall seconds, largest peak RSS in MB) of ``command`` run ``repeat`` times."""
    runs = [run_once(command, drop_caches) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def measure_interleaved(commands: dict[str, list[str]], repeat: int = 3,
                        drop_caches: bool = True) -> dict[str, tuple[float, float, float]]:
    """Each command's (median wall s, largest peak MB, median CPU s) over ``repeat`` rounds,
    each round running every command once in turn (ours, peer, ours, peer...), so that a
    change in the machine's load falls on all of them alike. Without ``drop_caches`` the
    programs and libraries stay cached (as for a user running a command again): a dropped
    cache makes each run read the interpreter, numpy and pydicom from disk."""
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            runs[name].append(run_once(command, drop_caches))
    return {name: (statistics.median(r[0] for r in done), max(r[1] for r in done),
                   statistics.median(r[2] for r in done)) for name, done in runs.items()}


def load() -> str:
    """The machine's load average over 1, 5 and 15 minutes, for the results' notes."""
    return "load average " + ", ".join(f"{n:.1f}" for n in os.getloadavg())


def python(*code: str) -> list[str]:
    """A command running Python code in this interpreter."""
    return [sys.executable, "-c", "\n".join(code)]


@functools.cache
def compile_bytecode() -> None:
    """Compile the package's bytecode once, as pip does when it installs a wheel: where
    PYTHONDONTWRITEBYTECODE is set (this machine's shells), an editable checkout would
    otherwise compile every module it imports on each run, a cost no installed copy pays
    (about 0.1 s of a small save)."""
    import compileall

    for folder in ("core", "nodes", "widgets"):
        compileall.compile_dir(Path(__file__).resolve().parents[1] / folder, quiet=1)


def dicomreg(*args: str) -> list[str]:
    """A command running the dicomreg command line with this interpreter (compiled)."""
    compile_bytecode()
    return [sys.executable, "-m", "dicomreg.core.cli.main", *args]


def ct_series(size: tuple[int, int, int], name: str, frame_seed: str) -> Path:
    """A synthetic CT series of size (X, Y, Z) with the sample script's writer, cached."""
    folder = CACHE / f"{name}_{size[0]}x{size[1]}x{size[2]}"
    if not folder.exists():
        script = Path(__file__).resolve().parents[1] / "example_flows" / "data"
        subprocess.run(python(
            "import sys, numpy as np",
            f"sys.path.insert(0, {str(script)!r})",
            "import make_sample_data as s",
            f"hu = np.zeros({(size[2], size[1], size[0])}, np.int16)",
            f"s.write_series(__import__('pathlib').Path({str(folder)!r}), hu, "
            f"origin=(0.0, 0.0, 0.0), spacing=(1.0, 1.0, 2.5), study={name!r}, "
            f"series_number=1, study_date='20260101', description={name!r}, "
            f"frame_of_reference=s.uid({frame_seed!r}))"), check=True)
    return folder


def dciodvfy_errors(path: Path) -> int:
    """The number of dciodvfy Error lines for a file (-1 when dciodvfy is missing)."""
    import shutil

    if shutil.which("dciodvfy") is None:
        return -1
    output = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
    return sum(line.startswith("Error") for line in (output.stdout + output.stderr).splitlines())


def smooth_field_file(size: tuple[int, int, int], amplitude: float = 3.0,
                      directory: Path = CACHE) -> Path:
    """A smooth float32 displacement field of size (X, Y, Z) as .mha on the CT series' grid
    (origin 0, spacing 1 x 1 x 2.5 mm), made once and cached, slab by slab in a child.

    Smooth (sines of about 64 mm, gradients below 0.35) so that it is invertible: the
    inversion benchmark needs a field whose inverse exists, and warping is timed on it too.
    """
    directory.mkdir(parents=True, exist_ok=True)
    x, y, z = size
    path = directory / f"smooth_{x}x{y}x{z}.mha"
    if not path.exists():
        header = ("ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = "
                  f"False\nOffset = 0 0 0\nElementSpacing = 1 1 2.5\nDimSize = {x} {y} {z}\n"
                  "ElementNumberOfChannels = 3\nElementType = MET_FLOAT\n"
                  "ElementDataFile = LOCAL\n")
        subprocess.run(python(
            "import numpy as np",
            f"x, y, z, a = {x}, {y}, {z}, {amplitude}",
            "j, i = np.meshgrid(np.arange(y, dtype=np.float32), np.arange(x, dtype=np.float32),"
            " indexing='ij')",
            f"out = open({str(path)!r}, 'wb'); out.write({header!r}.encode())",
            "for k in range(z):",
            "    w = 2 * np.pi * k * 2.5 / 160",
            "    v = np.stack([a * np.sin(2 * np.pi * j / 64 + w), a * np.cos(2 * np.pi * i / 72"
            " - w), 0.5 * a * np.sin(2 * np.pi * (i + j) / 96)], axis=-1)",
            "    v.astype(np.float32).tofile(out)",
            "out.close()"), check=True)
    return path


def image_of_series(folder: Path) -> Path:
    """The CT series as one .mha next to it (the moving image every tool reads alike)."""
    path = folder.with_suffix(".mha")
    if not path.exists():
        subprocess.run(python(
            "import SimpleITK as sitk",
            "reader = sitk.ImageSeriesReader()",
            f"reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames({str(folder)!r}))",
            f"sitk.WriteImage(reader.Execute(), {str(path)!r})"), check=True)
    return path


def smooth_case(description: str | None = None):
    """The command line of a benchmark on the smooth field (--size, --repeat), and its
    inputs: (arguments, size, field file, fixed series, moving series)."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", default="512x512x200")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = tuple(int(n) for n in args.size.split("x"))
    return (args, size, smooth_field_file(size), ct_series(size, "FIXED", "fixed frame"),
            ct_series(size, "MOVING", "moving frame"))
