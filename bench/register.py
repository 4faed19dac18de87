"""Benchmark: ``dicomreg register`` by each method against ``plastimatch register``.

    python bench/register.py [--pairs sample,synthetic] [--repeat 1]

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
numpy's trilinear interpolation. Wall time and the command's own peak memory as in the other
benchmarks (``common.measure``); the images are written as .mha for plastimatch, untimed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from common import CACHE, dicomreg, machine, measure

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "core" / "registration"),
                str(ROOT / "tests" / "core" / "reg")]

from conftest import sample_data  # noqa: E402
from phantom import body_points, bump, make_pair, rotation  # noqa: E402
from test_standard_equation import decode, standard_map, trilinear  # noqa: E402

METHODS = ("rigid", "affine", "bspline", "demons", "elastix")
RIGID = rotation(3.0, [3.0, -2.0, 1.5])
SYNTHETIC = ((96, 96, 48), (2.0, 2.0, 3.0))

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


def deformed(points: np.ndarray) -> np.ndarray:
    moved = points @ RIGID[:3, :3].T + RIGID[:3, 3]
    return moved + bump(moved)


def pairs(names: list[str]) -> dict:
    """name -> (fixed, moving, known mapping, points inside the body, axes judged)."""
    chosen = {}
    if "sample" in names:
        data = ROOT / "example_flows" / "data"
        points = sample_data.grid_points(sample_data.FIXED_ORIGIN).reshape(-1, 3)
        inside = points[sample_data.phantom(points) > -500]
        chosen["sample 48x40x12"] = (data / "fixed", data / "moving",
                                     lambda p: p + sample_data.displacement(p), inside,
                                     slice(0, 2))
    if "synthetic" in names:
        size, spacing = SYNTHETIC
        folder = CACHE / "register_synthetic"
        if not (folder / "moving").exists():
            make_pair(folder, deformed, "bench", size, spacing)
        chosen["synthetic 96x96x48"] = (folder / "fixed", folder / "moving", deformed,
                                        body_points(4, size, spacing), slice(0, 3))
    return chosen


def as_mha(series: Path) -> Path:
    import SimpleITK as sitk

    out = series.with_suffix(".mha")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series)))
    sitk.WriteImage(reader.Execute(), str(out))
    return out


def field_points(path: Path, points: np.ndarray) -> np.ndarray:
    """p + v(p) of a pull field file (plastimatch's), by numpy."""
    import SimpleITK as sitk

    image = sitk.ReadImage(str(path))
    world = np.eye(4)
    world[:3, :3] = np.asarray(image.GetDirection()).reshape(3, 3) * np.asarray(
        image.GetSpacing())
    world[:3, 3] = image.GetOrigin()
    vectors = sitk.GetArrayFromImage(image).astype(float)
    return points + trilinear(vectors, world, points)


def row(name: str, wall: float, peak: float, error: np.ndarray) -> str:
    return (f"| {name} | {wall:.1f} | {peak:.0f} | {error.mean():.2f} | "
            f"{np.percentile(error, 95):.2f} | {error.max():.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", default="sample,synthetic")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {machine()}; median of {args.repeat}")
    for title, (fixed, moving, mapping, points, axes) in pairs(args.pairs.split(",")).items():
        def errors(mapped: np.ndarray) -> np.ndarray:
            return np.linalg.norm((mapped - mapping(points))[:, axes], axis=1)  # noqa: B023

        print(f"\n{title}, {len(points)} points inside the body\n")
        print("| tool | wall s | peak MB | mean error mm | 95th percentile mm | max mm |")
        print("|---|---|---|---|---|---|")
        before = errors(points)
        print(f"| (no registration) | | | {before.mean():.2f} | "
              f"{np.percentile(before, 95):.2f} | {before.max():.2f} |")
        for method in METHODS:
            out = CACHE / f"register_{method}.dcm"
            wall, peak = measure(dicomreg("register", str(fixed), str(moving), "-o", str(out),
                                          "--method", method, "--no-dciodvfy"),
                                 repeat=args.repeat)
            print(row(f"dicomreg {method}", wall, peak,
                      errors(standard_map(decode(out), points))), flush=True)
        if shutil.which("plastimatch"):
            parameters = CACHE / "plastimatch_register.txt"
            out = CACHE / "plastimatch_vf.mha"
            parameters.write_text(PLASTIMATCH.format(fixed=as_mha(fixed),
                                                     moving=as_mha(moving), out=out))
            wall, peak = measure(["plastimatch", "register", str(parameters)],
                                 repeat=args.repeat)
            print(row("plastimatch register", wall, peak,
                      errors(field_points(out, points))), flush=True)


if __name__ == "__main__":
    main()
