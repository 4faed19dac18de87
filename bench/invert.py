"""Benchmark: ``--direction push`` inversion against SimpleITK's InvertDisplacementField.

    python bench/invert.py [--sizes 256x256x100,512x512x200]

The smooth field of bench/common.py (gradients below 0.35) is taken as a push field and
inverted onto its own grid, in a child process each: ours (``invert_push_field``, ITK's
fixed-point iteration) and SimpleITK's InvertDisplacementField with the same tolerances
(max 0.01 mm, mean 0.0001 mm, 50 iterations). Each child times the inversion itself (the
field read is outside it) and prints the residual |v(x) + u(x + v(x))| over the points
that land on the grid, ours by its own measure, SimpleITK's by the same formula with ITK's
resampling of u through its inverse. Peak is each child's maximum resident set.
"""

from __future__ import annotations

import argparse
import os
import subprocess

from common import python, settle, smooth_field_file, table_head

OURS = (
    "import time, numpy as np",
    "from dicomreg.core.deformation import read_displacement_field, invert_push_field",
    "image = read_displacement_field(PATH)",
    "u = np.asarray(image.voxels, np.float64)",
    "started = time.perf_counter()",
    "v, inversion = invert_push_field(u, image.geometry, image.geometry)",
    "print(time.perf_counter() - started, inversion.max_mm, inversion.mean_mm)",
)
SIMPLEITK = (
    "import time, numpy as np, SimpleITK as sitk",
    "push = sitk.Cast(sitk.ReadImage(PATH), sitk.sitkVectorFloat64)",
    "started = time.perf_counter()",
    "inverse = sitk.InvertDisplacementField(push, maximumNumberOfIterations=50, "
    "maxErrorToleranceThreshold=0.01, meanErrorToleranceThreshold=0.0001, "
    "enforceBoundaryCondition=False)",
    "wall = time.perf_counter() - started",
    "there = sitk.Resample(push, push, sitk.DisplacementFieldTransform(sitk.Image(inverse)),"
    " sitk.sitkLinear, 0.0)",
    "v = sitk.GetArrayViewFromImage(inverse)",
    "r = np.linalg.norm(v + sitk.GetArrayViewFromImage(there), axis=-1)",
    "z, y, x = r.shape",
    "k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing='ij')",
    "s = np.asarray(push.GetSpacing())",
    "p = np.stack([i, j, k], -1) + v / s",
    "inside = np.all((p >= 0) & (p <= np.array([x, y, z]) - 1), axis=-1)",
    "print(wall, r[inside].max(), r[inside].mean())",
)


def run(code: tuple[str, ...], path: str) -> tuple[float, float, float, float]:
    settle()
    process = subprocess.Popen(python(*(line.replace("PATH", repr(path)) for line in code)),
                               stdout=subprocess.PIPE, text=True)
    _pid, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("an inversion failed")
    wall, worst, mean = (float(n) for n in process.stdout.read().split())
    return wall, usage.ru_maxrss / 1024, worst, mean


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="256x256x100,512x512x200")
    args = parser.parse_args()
    table_head(["size", "tool", "inversion s", "peak MB", "residual max mm",
                "residual mean mm", "wall / SimpleITK"])
    for text in args.sizes.split(","):
        path = str(smooth_field_file(tuple(int(n) for n in text.split("x"))))
        ours, theirs = run(OURS, path), run(SIMPLEITK, path)
        for name, (wall, peak, worst, mean) in (("dicomreg", ours), ("SimpleITK", theirs)):
            print(f"| {text} | {name} | {wall:.1f} | {peak:.0f} | {worst:.3g} | {mean:.3g} "
                  f"| {wall / theirs[0]:.2f} |")


if __name__ == "__main__":
    main()
