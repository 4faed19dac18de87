"""Benchmark: ``--direction push`` inversion against SimpleITK's InvertDisplacementField.

    python bench/invert.py [--sizes 256x256x100,512x512x200] [--repeat 3]

The smooth field of bench/common.py (gradients below 0.35) is taken as a push field and
inverted onto its own grid, each inversion in a child process of its own, interleaved round
by round (SimpleITK, ours, ours again) so that a change in the machine's load falls on all
alike; medians are reported (peak: the largest). The three:

- SimpleITK's InvertDisplacementField with our tolerances (max 0.01, mean 0.0001, 50
  iterations; ITK measures them in voxels, we in mm), its iterations read from its progress
  (two events an iteration);
- ours (``invert_push_field``, ITK's fixed-point iteration) with its defaults, the field
  handed over as read (as ``dicomreg save --direction push`` does);
- ours stopped at SimpleITK's residual (its max and mean, measured as below, as our
  tolerances): the same accuracy for both, the fair comparison of speed.

Each child times the inversion itself (wall, and the CPU of all its threads; the field read
is outside it) and prints the residual |v(x) + u(x + v(x))| over the points that land on the
grid, ours by its own measure, SimpleITK's by the same formula with ITK's resampling of u
through its inverse. Peak is each child's maximum resident set, the read included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess

from common import load, python, settle, smooth_field_file, table_head

OURS = (
    "import time, numpy as np",
    "from dicomreg.core.deformation import read_displacement_field, invert_push_field",
    "image = read_displacement_field(PATH)",
    "steps = []",
    "started, cpu = time.perf_counter(), time.process_time()",
    "v, inversion = invert_push_field(image.voxels, image.geometry, image.geometry, "
    "tolerance_mm=MAX, mean_tolerance_mm=MEAN, progress=lambda *step: steps.append(step))",
    "print(time.perf_counter() - started, time.process_time() - cpu, inversion.max_mm, "
    "inversion.mean_mm, len(steps))",
)
SIMPLEITK = (
    "import time, numpy as np, SimpleITK as sitk",
    "push = sitk.Cast(sitk.ReadImage(PATH), sitk.sitkVectorFloat64)",
    "f = sitk.InvertDisplacementFieldImageFilter()",
    "f.SetMaximumNumberOfIterations(50)",
    "f.SetMaxErrorToleranceThreshold(0.01)",
    "f.SetMeanErrorToleranceThreshold(0.0001)",
    "f.SetEnforceBoundaryCondition(False)",
    "seen = [0.0]",
    "f.AddCommand(sitk.sitkProgressEvent, lambda: seen.append(f.GetProgress()))",
    "started, cpu = time.perf_counter(), time.process_time()",
    "inverse = f.Execute(push)",
    "wall, cpu = time.perf_counter() - started, time.process_time() - cpu",
    "there = sitk.Resample(push, push, sitk.DisplacementFieldTransform(sitk.Image(inverse)),"
    " sitk.sitkLinear, 0.0)",
    "v = sitk.GetArrayViewFromImage(inverse)",
    "r = np.linalg.norm(v + sitk.GetArrayViewFromImage(there), axis=-1)",
    "z, y, x = r.shape",
    "k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing='ij')",
    "s = np.asarray(push.GetSpacing())",
    "p = np.stack([i, j, k], -1) + v / s",
    "inside = np.all((p >= 0) & (p <= np.array([x, y, z]) - 1), axis=-1)",
    "print(wall, cpu, r[inside].max(), r[inside].mean(), round(max(seen) * 50))",
)


def run(code: tuple[str, ...], path: str, tolerances: tuple[float, float] = (0.01, 0.0001)
        ) -> tuple[float, ...]:
    """(wall s, CPU s, peak MB, residual max mm, residual mean mm, iterations) of a child."""
    settle()
    lines = (line.replace("PATH", repr(path)).replace("MAX", repr(tolerances[0]))
             .replace("MEAN", repr(tolerances[1])) for line in code)
    process = subprocess.Popen(python(*lines), stdout=subprocess.PIPE, text=True)
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("an inversion failed")
    wall, cpu, worst, mean, steps = (float(n) for n in process.stdout.read().split())
    return wall, cpu, usage.ru_maxrss / 1024, worst, mean, steps


def summary(runs: list[tuple[float, ...]]) -> tuple[float, ...]:
    """Medians of each column, but the largest peak."""
    columns = list(zip(*runs, strict=True))
    middle = [statistics.median(column) for column in columns]
    middle[2] = max(columns[2])
    return tuple(middle)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="256x256x100,512x512x200")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table_head(["size", "tool", "iterations", "inversion s", "CPU s", "peak MB",
                "residual max mm", "residual mean mm", "wall / SimpleITK", "CPU / SimpleITK"],
                f", {load()}")
    for text in args.sizes.split(","):
        path = str(smooth_field_file(tuple(int(n) for n in text.split("x"))))
        runs: dict[str, list[tuple[float, ...]]] = {"SimpleITK": [], "dicomreg": [],
                                                    "dicomreg at SimpleITK's residual": []}
        for _ in range(args.repeat):
            theirs = run(SIMPLEITK, path)
            runs["SimpleITK"].append(theirs)
            runs["dicomreg"].append(run(OURS, path))
            # SimpleITK's residual as our tolerances (a hair above, for the printed digits)
            runs["dicomreg at SimpleITK's residual"].append(
                run(OURS, path, (theirs[3] * 1.0001, theirs[4] * 1.0001)))
        reference = summary(runs["SimpleITK"])
        for name, done in runs.items():
            wall, cpu, peak, worst, mean, steps = summary(done)
            print(f"| {text} | {name} | {steps:.0f} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | "
                  f"{worst:.3g} | {mean:.3g} | {wall / reference[0]:.2f} | "
                  f"{cpu / reference[1]:.2f} |", flush=True)
    print(load())


if __name__ == "__main__":
    main()
