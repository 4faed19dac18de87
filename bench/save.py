"""Benchmark 1 and its growth: ``dicomreg save`` against plastimatch ``xf-convert``.

    python bench/save.py [--sizes 128x128x50,256x256x100,512x512x200]

For each size: a random float32 field (.mha) on a fixed CT series' grid, and fixed and
moving CT series of that size (made once into bench/.cache). Both tools write a REG from the
same inputs, referencing both series; each runs 3 times. Reported: median wall time, peak
memory, their ratios, and dciodvfy's error count for each tool's file. Needs plastimatch
(Debian package plastimatch) on PATH.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from common import (
    CACHE,
    ct_series,
    dciodvfy_errors,
    dicomreg,
    field_file,
    measure,
    require,
    table_head,
)


def sizes(text: str) -> list[tuple[int, int, int]]:
    return [tuple(int(n) for n in part.split("x")) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="128x128x50,256x256x100,512x512x200", type=sizes)
    args = parser.parse_args()
    require("plastimatch", "plastimatch")
    table_head(["field", "field MB", "dicomreg s", "plastimatch s", "time ratio",
                "dicomreg peak MB", "plastimatch peak MB", "dicomreg peak / field",
                "dciodvfy errors (ours, plm)"])
    for size in args.sizes:
        field = field_file(size)
        fixed = ct_series(size, "FIXED", "fixed frame")
        moving = ct_series(size, "MOVING", "moving frame")
        field_mb = size[0] * size[1] * size[2] * 12 / 1e6
        ours = CACHE / "out_dicomreg.dcm"
        plm = CACHE / "out_plastimatch"
        shutil.rmtree(plm, ignore_errors=True)
        our_wall, our_peak = measure(dicomreg("save", str(field), "--fixed", str(fixed),
                                              "--moving", str(moving), "-o", str(ours),
                                              "--no-dciodvfy"))
        plm_wall, plm_peak = measure(["plastimatch", "xf-convert", "--input", str(field),
                                      "--output-dicom", str(plm), "--fixed-rcs", str(fixed),
                                      "--moving-rcs", str(moving)])
        plm_file = next(Path(plm).glob("*.dcm"))
        print(f"| {'x'.join(map(str, size))} | {field_mb:.0f} | {our_wall:.2f} | "
              f"{plm_wall:.2f} | {our_wall / plm_wall:.2f} | {our_peak:.0f} | {plm_peak:.0f} "
              f"| {our_peak / field_mb:.2f} | {dciodvfy_errors(ours)}, "
              f"{dciodvfy_errors(plm_file)} |")


if __name__ == "__main__":
    main()
