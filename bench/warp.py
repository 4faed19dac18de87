"""Benchmark: ``dicomreg warp`` against SimpleITK's Resample and ``plastimatch warp``.

    python bench/warp.py [--size 512x512x200] [--repeat 3]

A smooth float32 field on a CT series' grid is saved as a REG (``dicomreg save``, not
timed); the moving CT (as .mha, read alike by every tool) is then warped through it by
``dicomreg warp REG MOVING -o OUT.mha``, by a SimpleITK script (the field file read, cast to
float64, a DisplacementFieldTransform, Resample linear onto the field's grid, written), and
by ``plastimatch warp --input MOVING --xf FIELD --output-img OUT.mha``. Runs are interleaved
(ours, SimpleITK, plastimatch, then again); median wall and CPU time and largest peak RSS
are reported.
"""

from __future__ import annotations

import shutil

from common import (
    CACHE,
    dicomreg,
    image_of_series,
    load,
    machine,
    measure,
    measure_interleaved,
    python,
    smooth_case,
)


def simpleitk_warp(field: str, moving: str, output: str) -> list[str]:
    return python(
        "import SimpleITK as sitk",
        f"moving = sitk.ReadImage({moving!r})",
        f"field = sitk.Cast(sitk.ReadImage({field!r}), sitk.sitkVectorFloat64)",
        "reference = sitk.Image(field.GetSize(), sitk.sitkFloat32)",
        "reference.CopyInformation(field)",
        "transform = sitk.DisplacementFieldTransform(field)",
        "out = sitk.Resample(moving, reference, transform, sitk.sitkLinear, -1024.0, "
        "sitk.sitkFloat32)",
        f"sitk.WriteImage(out, {output!r})")


def main() -> None:
    args, size, field, fixed, moving_series = smooth_case(__doc__)
    moving = image_of_series(moving_series)
    reg = CACHE / f"warp_{args.size}.dcm"
    if not reg.exists():
        measure(dicomreg("save", str(field), "--fixed", str(fixed), "--moving",
                         str(moving_series), "-o", str(reg), "--no-dciodvfy"), repeat=1)
    out = CACHE / "warped.mha"
    commands = {
        "dicomreg warp": dicomreg("warp", str(reg), str(moving), "-o", str(out)),
        "SimpleITK Resample": simpleitk_warp(str(field), str(moving), str(out)),
    }
    if shutil.which("plastimatch"):
        commands["plastimatch warp"] = ["plastimatch", "warp", "--input", str(moving),
                                        "--xf", str(field), "--output-img", str(out)]
    results = measure_interleaved(commands, args.repeat)
    print(f"machine: {machine()}; {load()}; {args.size}, medians of {args.repeat}, "
          "interleaved")
    base_wall, base_peak, base_cpu = results["SimpleITK Resample"]
    print("| tool | wall s | CPU s | peak MB | wall / SimpleITK | CPU / SimpleITK "
          "| peak / SimpleITK |")
    print("|---|---|---|---|---|---|---|")
    for name, (wall, peak, cpu) in results.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | {wall / base_wall:.2f} | "
              f"{cpu / base_cpu:.2f} | {peak / base_peak:.2f} |")
    out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
