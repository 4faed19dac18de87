"""Benchmarks 2, 3 and their growth: writing a REG from an in-memory array against
``numpy.ndarray.tofile``, and reading a REG's vectors against ``numpy.fromfile``.

    python bench/write_read.py [--sizes 128x128x50,256x256x100,512x512x200]

Measured on disk (bench/.cache) and on tmpfs (/dev/shm), where fsync costs nothing.

Each measurement runs in a child process that has imported everything and made its array
first, so that "peak above the array" counts only what writing or reading adds. Both write a new
file, from a settled state (see common.settle). Writing is compared with ``tofile`` alone and
with ``tofile`` followed by ``fsync``: our writer syncs the file before moving it into place,
which is what makes it crash-safe. Reading loads the vectors into memory
(``read_deformable_registration(..., memory_map=False)``), timed warm (the file in the page
cache) for both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import CACHE, machine, settle

REPEAT = 5


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(mode: str, size: tuple[int, int, int], folder: Path) -> dict:
    from dicomreg.core import DicomREGSave, Geometry, Image, read_deformable_registration
    from dicomreg.core.dicom import read_header, region_of

    x, y, z = size
    reg = folder / f"bench_{x}x{y}x{z}.dcm"
    if mode.startswith("write"):
        array = np.random.default_rng(0).standard_normal((z, y, x, 3), dtype=np.float32)
        # Both write a new file.
        (reg if mode == "write-ours" else folder / "tofile.bin").unlink(missing_ok=True)
        settle()
        before = rss_mb()
        started = time.perf_counter()
        if mode == "write-ours":
            module = DicomREGSave()
            module.input0 = Image(array, Geometry((x, y, z), (1.0, 1.0, 2.5), (0.0, 0.0, 0.0)))
            module.set_many({"frameOfReferenceUID": "1.2.3", "sourceFrameOfReferenceUID": "1.2.4",
                             "fileName": str(reg)})
            module.save()
        else:
            path = folder / "tofile.bin"
            with open(path, "wb") as handle:
                array.tofile(handle)
                if mode == "write-tofile-fsync":
                    handle.flush()
                    os.fsync(handle.fileno())
    else:
        region = region_of(read_header(reg).DeformableRegistrationSequence[0]
                           .DeformableRegistrationGridSequence[0].VectorGridData)
        before = rss_mb()
        started = time.perf_counter()
        if mode == "read-ours":
            registration = read_deformable_registration(reg, memory_map=False)
            array = registration.deformable_item.grid.voxels
        else:
            array = np.fromfile(reg, dtype="<f4", count=region.length // 4,
                                offset=region.offset)
        assert array.size == x * y * z * 3
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "above": peak - before}


def run(mode: str, size: tuple[int, int, int], folder: Path) -> tuple[float, float]:
    results = []
    for _ in range(REPEAT):
        settle(drop_caches=mode.startswith("write"))  # reads are timed warm
        out = subprocess.run([sys.executable, __file__, "--child", mode,
                              "x".join(map(str, size)), str(folder)], capture_output=True,
                             text=True, check=True)
        results.append(json.loads(out.stdout.splitlines()[-1]))
    return (statistics.median(r["seconds"] for r in results),
            max(r["above"] for r in results))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="128x128x50,256x256x100,512x512x200")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        size = tuple(int(n) for n in args.child[1].split("x"))
        print(json.dumps(child(args.child[0], size, Path(args.child[2]))))
        return
    CACHE.mkdir(exist_ok=True)
    print(f"machine: {machine()}")
    # On disk, fsync's cost varies a lot on this virtual machine; on tmpfs (memory) it is
    # nothing, which isolates what the software adds to writing the same bytes.
    places = [("disk", CACHE)]
    if Path("/dev/shm").is_dir():
        places.append(("tmpfs", Path(tempfile.mkdtemp(dir="/dev/shm"))))
    print("| field | MB | on | ours s | tofile s | tofile+fsync s | ratio (tofile) | ratio "
          "(tofile+fsync) | ours above array MB | ours read s | fromfile s | read ratio | "
          "ours read above MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    try:
        for text in args.sizes.split(","):
            size = tuple(int(n) for n in text.split("x"))
            mb = np.prod(size) * 12 / 1e6
            for place, folder in places:
                ours, ours_above = run("write-ours", size, folder)
                plain, _ = run("write-tofile", size, folder)
                synced, _ = run("write-tofile-fsync", size, folder)
                run("read-ours", size, folder)  # warm the page cache
                read, read_above = run("read-ours", size, folder)
                fromfile, _ = run("read-fromfile", size, folder)
                print(f"| {text} | {mb:.0f} | {place} | {ours:.3f} | {plain:.3f} | "
                      f"{synced:.3f} | {ours / plain:.2f} | {ours / synced:.2f} | "
                      f"{ours_above:.0f} | {read:.3f} | {fromfile:.3f} | {read / fromfile:.2f} "
                      f"| {read_above:.0f} |")
    finally:
        for _place, folder in places[1:]:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
