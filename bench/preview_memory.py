"""Benchmark: the peak memory of holding a field as the editor does, headless.

    python bench/preview_memory.py [--size 512x512x200]

In a child: the field read as the DisplacementField node reads it
(``read_displacement_field``, then ``load_deformation`` with that field), then what the
preview computes: the Jacobian determinant of every voxel by slabs of 16 into one float32
volume (the widget's statistics pass), the folding count, and the middle slice's
magnitude. Its peak resident memory is compared with the field's bytes (target: at most
the field + 300 MB).
"""

from __future__ import annotations

import argparse

from common import measure, python, smooth_field_file, table_head


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="512x512x200")
    args = parser.parse_args()
    size = tuple(int(n) for n in args.size.split("x"))
    field = smooth_field_file(size)
    wall, peak = measure(python(
        "import numpy as np",
        "from dicomreg.core.deformation import load_deformation, read_displacement_field",
        "from dicomreg.core.deformation.metrics import folding, jacobian_determinant, "
        "magnitude",
        f"image = read_displacement_field({str(field)!r})",
        f"loaded = load_deformation({str(field)!r}, field=image)",
        "v, g = loaded.image.voxels, loaded.image.geometry",
        "det = np.empty(v.shape[:3], np.float32)",
        "for first in range(0, v.shape[0], 16):",
        "    det[first:first + 16] = jacobian_determinant(v, g, first, first + 16)",
        "print(folding(v, g), float(np.nanmax(magnitude(v[v.shape[0] // 2]))))"), repeat=1)
    field_mb = size[0] * size[1] * size[2] * 12 / 1e6
    table_head(["field MB", "wall s", "peak MB", "peak - field MB"], f"; {args.size}")
    print(f"| {field_mb:.0f} | {wall:.1f} | {peak:.0f} | {peak - field_mb:.0f} |")


if __name__ == "__main__":
    main()
