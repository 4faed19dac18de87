"""Benchmark: ``dicomreg save`` from compressed fields against the uncompressed .mha.

    python bench/compressed.py [--size 512x512x200] [--repeat 3]

The smooth field of bench/common.py is written once more as .nii.gz and as a compressed
.mha (SimpleITK, zlib's default level); each of the three is saved as a REG on the same CT
series, runs interleaved, best wall and largest peak of ``repeat``.
"""

from __future__ import annotations

import subprocess

from common import CACHE, dicomreg, measure, python, smooth_case, table_head


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
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in inputs}
    for _ in range(args.repeat):
        for name, path in inputs.items():
            runs[name].append(measure(dicomreg("save", str(path), "--fixed", str(fixed),
                                               "--moving", str(moving), "-o", str(out),
                                               "--no-dciodvfy"), repeat=1))
    table_head(["field file", "MB on disk", "save s", "peak MB", "wall / .mha"],
               f"; {args.size}, best of {args.repeat}, interleaved")
    base = min(w for w, _ in runs[".mha"])
    for name, path in inputs.items():
        wall = min(w for w, _ in runs[name])
        peak = max(p for _, p in runs[name])
        print(f"| {name} | {path.stat().st_size / 1e6:.0f} | {wall:.2f} | {peak:.0f} | "
              f"{wall / base:.2f} |")
    out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
