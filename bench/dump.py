"""Benchmark: the tag dump of a large REG, against Python's own start-up.

    python bench/dump.py

Writes a 512x512x200 field's REG (629 MB of vectors) once into bench/.cache, then times
``dicomreg dump --annotate`` on it, and ``dicomreg fields`` (start-up and imports alone) for
comparison. The dump should cost little beyond start-up: the vectors stay on disk.
"""

from __future__ import annotations

from common import CACHE, dicomreg, field_file, machine, measure


def main() -> None:
    field = field_file((512, 512, 200))
    reg = CACHE / "reg_512x512x200.dcm"
    if not reg.exists():
        measure(dicomreg("save", str(field), "-o", str(reg), "--no-dciodvfy", "--set",
                         "frameOfReferenceUID=1.2.3", "--set", "sourceFrameOfReferenceUID=1.2.4"),
                repeat=1)
    print(f"machine: {machine()}")
    print(f"REG: {reg.stat().st_size / 1e6:.0f} MB")
    dump_wall, dump_peak = measure(dicomreg("dump", str(reg), "--annotate"), repeat=5)
    base_wall, base_peak = measure(dicomreg("fields"), repeat=5)
    print(f"dicomreg dump --annotate: {dump_wall:.2f} s, peak {dump_peak:.0f} MB")
    print(f"dicomreg fields (start-up): {base_wall:.2f} s, peak {base_peak:.0f} MB")
    print(f"dump beyond start-up: {dump_wall - base_wall:.2f} s, "
          f"{dump_peak - base_peak:.0f} MB")


if __name__ == "__main__":
    main()
