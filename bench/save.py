"""Benchmark 1 and its growth: ``dicomreg save`` against plastimatch ``xf-convert``.

    python bench/save.py [--sizes 128x128x50,256x256x100,512x512x200]

For each size: a random float32 field (.mha) on a fixed CT series' grid, and fixed and
moving CT series of that size (made once into bench/.cache). Both tools write a REG from the
same inputs, referencing both series; runs interleaved (ours, plastimatch, ours...),
``--repeat`` rounds. Reported: median wall and CPU time, peak memory, their ratios, and
dciodvfy's error count for each tool's file; then the start-up alone (the interpreter, numpy,
the save's imports). Needs plastimatch (Debian package plastimatch) on PATH.
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
    load,
    measure_interleaved,
    python,
    require,
    table_head,
)

# The fixed cost of a save apart from its work: the interpreter, then the imports a save of a
# MetaImage field needs (numpy, pydicom as the command line imports it, our modules).
STARTUP = {
    "python -c pass": "pass",
    "import numpy": "import numpy",
    "the save's imports": "from dicomreg.core.cli.main import _import_pydicom_without_downloads"
                         " as i; i(); import dicomreg.core.regsave.save_request",
}


def sizes(text: str) -> list[tuple[int, int, int]]:
    return [tuple(int(n) for n in part.split("x")) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="128x128x50,256x256x100,512x512x200", type=sizes)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warm", action="store_true",
                        help="keep the page cache between runs (flushed only): programs and "
                        "libraries stay cached, as when a user runs a command again")
    args = parser.parse_args()
    require("plastimatch", "plastimatch")
    table_head(["field", "field MB", "dicomreg s", "plastimatch s", "time ratio",
                "dicomreg CPU s", "plastimatch CPU s", "CPU ratio", "dicomreg peak MB",
                "plastimatch peak MB", "dicomreg peak / field", "dciodvfy errors (ours, plm)"],
               f"; {load()}; medians of {args.repeat}, interleaved"
               f"{', warm page cache' if args.warm else ''}")
    for size in args.sizes:
        field = field_file(size)
        fixed = ct_series(size, "FIXED", "fixed frame")
        moving = ct_series(size, "MOVING", "moving frame")
        field_mb = size[0] * size[1] * size[2] * 12 / 1e6
        ours = CACHE / "out_dicomreg.dcm"
        plm = CACHE / "out_plastimatch"
        shutil.rmtree(plm, ignore_errors=True)
        results = measure_interleaved({
            "ours": dicomreg("save", str(field), "--fixed", str(fixed), "--moving",
                             str(moving), "-o", str(ours), "--no-dciodvfy"),
            "plastimatch": ["plastimatch", "xf-convert", "--input", str(field),
                            "--output-dicom", str(plm), "--fixed-rcs", str(fixed),
                            "--moving-rcs", str(moving)]}, args.repeat, not args.warm)
        (our_wall, our_peak, our_cpu), (plm_wall, plm_peak, plm_cpu) = results.values()
        plm_file = next(Path(plm).glob("*.dcm"))
        print(f"| {'x'.join(map(str, size))} | {field_mb:.0f} | {our_wall:.2f} | "
              f"{plm_wall:.2f} | {our_wall / plm_wall:.2f} | {our_cpu:.2f} | {plm_cpu:.2f} | "
              f"{our_cpu / plm_cpu:.2f} | {our_peak:.0f} | {plm_peak:.0f} "
              f"| {our_peak / field_mb:.2f} | {dciodvfy_errors(ours)}, "
              f"{dciodvfy_errors(plm_file)} |")
    startup = measure_interleaved({name: python(code) for name, code in STARTUP.items()},
                                  args.repeat, not args.warm)
    print("\n| start-up alone | wall s | CPU s |\n|---|---|---|")
    for name, (wall, _peak, cpu) in startup.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
