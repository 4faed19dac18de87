"""Benchmark: ``dicomreg save`` from compressed fields against the uncompressed .mha.

    python bench/compressed.py [--size 512x512x200] [--repeat 3]

The smooth field of bench/common.py is written once more as .nii.gz and as a compressed
.mha (SimpleITK, zlib's default level); each of the three is saved as a REG on the same CT
series, runs interleaved; medians of wall and CPU time, largest peak, of ``repeat`` rounds.
"""

from __future__ import annotations

import subprocess

from common import CACHE, dicomreg, load, measure_interleaved, python, smooth_case, table_head


def compressed(field, suffix: str, name: str):
    path = CACHE / f"{field.stem}_{name}{suffix}"
    if not path.exists():
        subprocess.run(python("import SimpleITK as sitk",
                              f"sitk.WriteImage(sitk.ReadImage({str(field)!r}), "
                              f"{str(path)!r}, useCompression=True)"), check=True)
    return path


def main() -> None:
    args, size, field, fixed, moving = smooth_case(__doc__)
    inputs = {".mha": field, ".nii.gz": compressed(field, ".nii.gz", "gz"),
              "compressed .mha": compressed(field, ".mha", "zlib")}
    out = CACHE / "out_compressed.dcm"
    results = measure_interleaved(
        {name: dicomreg("save", str(path), "--fixed", str(fixed), "--moving", str(moving),
                        "-o", str(out), "--no-dciodvfy") for name, path in inputs.items()},
        args.repeat)
    table_head(["field file", "MB on disk", "save s", "CPU s", "peak MB", "wall / .mha",
                "CPU / .mha"], f"; {load()}; {args.size}, medians of {args.repeat}, interleaved")
    base_wall, _, base_cpu = results[".mha"]
    for name, path in inputs.items():
        wall, peak, cpu = results[name]
        print(f"| {name} | {path.stat().st_size / 1e6:.0f} | {wall:.2f} | {cpu:.2f} | "
              f"{peak:.0f} | {wall / base_wall:.2f} | {cpu / base_cpu:.2f} |")
    out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
