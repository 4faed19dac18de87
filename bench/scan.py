"""Benchmark 4 and its growth: ``dicomreg scan`` against dcmtk's ``dcmdump`` over the same
files.

    python bench/scan.py [--files 500,1000,2000]

A series directory of N CT slices of 512x512 (made once into bench/.cache) is scanned into
volumes by ``dicomreg scan`` (headers only) and dumped by ``dcmdump +sd +r`` (dcmtk; the
whole files) and ``dcmdump +sd +r -M`` (dcmtk without loading long values). Each runs 3
times with the files in the page cache. Needs dcmdump (Debian package dcmtk).
"""

from __future__ import annotations

import argparse

from common import ct_series, dicomreg, measure, require, table_head


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", default="500,1000,2000")
    args = parser.parse_args()
    require("dcmdump", "dcmtk")
    table_head(["files", "dicomreg scan s", "dcmdump s", "dcmdump -M s", "ratio (dcmdump)",
                "ratio (dcmdump -M)", "dicomreg peak MB"])
    for count in (int(n) for n in args.files.split(",")):
        folder = ct_series((512, 512, count), "SCAN", "scan frame")
        commands = {
            "ours": dicomreg("scan", str(folder)),
            "dcmdump": ["dcmdump", "+sd", "+r", str(folder)],
            "dcmdump -M": ["dcmdump", "+sd", "+r", "-M", str(folder)],
        }
        for command in commands.values():  # the files into the page cache
            measure(command, repeat=1, drop_caches=False)
        results = {name: measure(command, drop_caches=False)
                   for name, command in commands.items()}
        ours, peak = results["ours"]
        print(f"| {count} | {ours:.2f} | {results['dcmdump'][0]:.2f} | "
              f"{results['dcmdump -M'][0]:.2f} | {ours / results['dcmdump'][0]:.2f} | "
              f"{ours / results['dcmdump -M'][0]:.2f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
