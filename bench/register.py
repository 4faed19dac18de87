"""Benchmark: ``dicomreg register`` by each method against ``plastimatch register``.

    python bench/register.py [--pairs sample,synthetic] [--methods demons,...] [--repeat 1]

Two pairs with a known pull mapping T (fixed point -> moving point), computed with numpy:
the sample pair (``example_flows/data``: 48x40x12, a shift plus a smooth push) and a larger
synthetic one (the tests' analytic phantom, 96x96x48 at 2x2x3 mm: a 3 degree rotation, a
shift, then a Gaussian bump of a few mm). Each method's REG (``dicomreg register FIXED
MOVING -o REG --method M``, its defaults) and plastimatch's vector field (``plastimatch
register`` with the parameter file below: rigid, then a B-spline of 40 mm on Mattes mutual
information, as our bspline) are judged at fixed points inside the body (for the sample in
x and y only: its phantom is the same on every slice, so no tool can find the 1.5 mm shift
in z, and the error there measures only where the overlap happened to pull): the REG by the
standard's equation written out in the tests (pydicom and numpy), plastimatch's field by
numpy's trilinear interpolation. Wall and CPU time (user + system) and the command's own
peak memory as in the other benchmarks (``common.measure_interleaved``); the images are
written as .mha for plastimatch, untimed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from common import CACHE, dicomreg, load, machine, measure_interleaved, python

ROOT = Path(__file__).resolve().parents[1]
TESTS = [str(ROOT / "tests"), str(ROOT / "tests" / "core" / "registration"),
         str(ROOT / "tests" / "core" / "reg")]
METHODS = ("rigid", "affine", "bspline", "demons", "elastix")
SYNTHETIC = ((96, 96, 48), (2.0, 2.0, 3.0))
# the same phantom and mapping on a grid twice as fine along each axis, 3.5 million voxels
# (a small CT's): ``--pairs large``, not run by default
GRIDS = {"synthetic": SYNTHETIC, "large": ((192, 192, 96), (1.0, 1.0, 1.5))}
# The measured commands run first, from a parent that has imported only numpy: Linux keeps a
# process's peak memory across fork and exec, so a parent holding SimpleITK and pydicom
# (about 190 MB) would be every child's peak. The data are made, and the answers judged,
# in child processes or after the measurements.
MAKE_PAIR = """
import sys
sys.path[:0] = {tests!r}
from pathlib import Path
from phantom import bump, make_pair, rotation
rigid = rotation(3.0, [3.0, -2.0, 1.5])
def deformed(points):
    moved = points @ rigid[:3, :3].T + rigid[:3, 3]
    return moved + bump(moved)
make_pair(Path({folder!r}), deformed, "bench", {size!r}, {spacing!r})
"""
AS_MHA = """
import SimpleITK as sitk
reader = sitk.ImageSeriesReader()
reader.SetFileNames(reader.GetGDCMSeriesFileNames({series!r}))
sitk.WriteImage(reader.Execute(), {series!r} + ".mha")
"""
PLASTIMATCH = """[GLOBAL]
fixed={fixed}
moving={moving}
vf_out={out}

[STAGE]
xform=align_center

[STAGE]
xform=rigid
optim=versor
impl=itk
metric=mi
max_its=200
res=4 4 2

[STAGE]
xform=bspline
impl=plastimatch
optim=lbfgsb
metric=mi
max_its=50
grid_spac=40 40 40
res=2 2 1
"""


def prepare(names: list[str]) -> dict[str, tuple[Path, Path, Path]]:
    """name -> (its folder, fixed series, moving series), each with its .mha, made once."""
    chosen = {}
    for name in names:
        folder = CACHE / f"register_{name}"
        if not (folder / "moving.mha").exists():
            if name == "sample":
                shutil.copytree(ROOT / "example_flows" / "data", folder, dirs_exist_ok=True)
            else:
                subprocess.run(python(MAKE_PAIR.format(tests=TESTS, folder=str(folder),
                                                       size=GRIDS[name][0],
                                                       spacing=GRIDS[name][1])), check=True)
            for series in ("fixed", "moving"):
                subprocess.run(python(AS_MHA.format(series=str(folder / series))), check=True)
        chosen[name] = (folder, folder / "fixed", folder / "moving")
    return chosen


def run_tools(folder: Path, fixed: Path, moving: Path, repeat: int,
              methods: tuple[str, ...] = METHODS) -> dict:
    """tool -> (wall, peak MB, CPU s, output file); the tools interleaved in each round, so
    that a change of the machine's load falls on all of them alike."""
    commands, outputs = {}, {}
    for method in methods:
        outputs[f"dicomreg {method}"] = out = folder / f"reg_{method}.dcm"
        commands[f"dicomreg {method}"] = dicomreg(
            "register", str(fixed), str(moving), "-o", str(out), "--method", method,
            "--no-dciodvfy")
    if shutil.which("plastimatch"):
        parameters, out = folder / "plastimatch_register.txt", folder / "plastimatch_vf.mha"
        parameters.write_text(PLASTIMATCH.format(fixed=folder / "fixed.mha",
                                                 moving=folder / "moving.mha", out=out))
        outputs["plastimatch register"] = out
        commands["plastimatch register"] = ["plastimatch", "register", str(parameters)]
    measured = measure_interleaved(commands, repeat=repeat)
    return {name: (*measured[name], outputs[name]) for name in commands}


def known(name: str):
    """(known mapping T, points inside the body, axes judged) of a pair, by numpy."""
    sys.path[:0] = TESTS
    from conftest import sample_data
    from phantom import body_points, bump, rotation

    if name == "sample":
        points = sample_data.grid_points(sample_data.FIXED_ORIGIN).reshape(-1, 3)
        return (lambda p: p + sample_data.displacement(p),
                points[sample_data.phantom(points) > -500], slice(0, 2))
    rigid = rotation(3.0, [3.0, -2.0, 1.5])

    def deformed(p: np.ndarray) -> np.ndarray:
        moved = p @ rigid[:3, :3].T + rigid[:3, 3]
        return moved + bump(moved)

    step = 4 if name == "synthetic" else 8  # about the same points on the finer grid
    return deformed, body_points(step, *GRIDS[name]), slice(0, 3)


def mapped(output: Path, points: np.ndarray) -> np.ndarray:
    """Where a tool's output sends the points: a REG by the standard's equation, a pull field
    file (plastimatch's) as p + v(p); both by pydicom, SimpleITK's reader and numpy."""
    import SimpleITK as sitk
    from test_standard_equation import decode, standard_map, trilinear

    if output.suffix == ".dcm":
        return standard_map(decode(output), points)
    image = sitk.ReadImage(str(output))
    world = np.eye(4)
    world[:3, :3] = np.asarray(image.GetDirection()).reshape(3, 3) * np.asarray(
        image.GetSpacing())
    world[:3, 3] = image.GetOrigin()
    vectors = sitk.GetArrayFromImage(image).astype(float)
    return points + trilinear(vectors, world, points)


def row(name: str, wall: str, cpu: str, peak: str, error: np.ndarray) -> str:
    return (f"| {name} | {wall} | {cpu} | {peak} | {error.mean():.2f} | "
            f"{np.percentile(error, 95):.2f} | {error.max():.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", default="sample,synthetic")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="the dicomreg methods to run beside plastimatch")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    methods = tuple(args.methods.split(","))
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"--methods {','.join(unknown)} is not known; the methods are "
                     f"{','.join(METHODS)}")
    measured = {name: run_tools(*paths, args.repeat, methods)
                for name, paths in prepare(args.pairs.split(",")).items()}
    print(f"machine: {machine()}; {load()}; median of {args.repeat}")
    for name, runs in measured.items():
        mapping, points, axes = known(name)

        def errors(moved: np.ndarray) -> np.ndarray:
            return np.linalg.norm((moved - mapping(points))[:, axes], axis=1)  # noqa: B023

        print(f"\n{name}, {len(points)} points inside the body\n")
        print("| tool | wall s | CPU s | peak MB | mean error mm | 95th percentile mm | max mm |")
        print("|---|---|---|---|---|---|---|")
        print(row("(no registration)", "", "", "", errors(points)))
        for tool, (wall, peak, cpu, output) in runs.items():
            print(row(tool, f"{wall:.1f}", f"{cpu:.1f}", f"{peak:.0f}",
                      errors(mapped(output, points))))


if __name__ == "__main__":
    main()
