"""``dicomreg batch``: one save per row of a CSV manifest, in parallel on a Dask cluster."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["COMMANDS", "add_parser", "batch"]

COMMANDS = {"batch": "one save per row of a CSV manifest, in parallel (Dask)"}

_DESCRIPTION = """\
Run one save per row of MANIFEST on a local cluster of worker processes, or on
an existing Dask cluster. A failing case never stops the others; the results
(one row per case: status, output, error, time, notes) go to a CSV file, and a
rerun skips the cases already done."""

# The manifest's columns as the reader (dicomreg.core.regsave.batch) takes them.
_COLUMNS = """\
manifest columns (named by its header row; paths relative to the manifest):
  field           required: the displacement field or transform file, as
                  save's FIELD (or give method instead)
  method          instead of field: register moving to fixed with rigid,
                  affine, bspline, demons or elastix (its defaults and fixed
                  seed), as 'dicomreg register'; the quality report is written
                  to OUTPUT.quality.json
  output          required: the REG file to write, as save's --output
  fixed, moving   DICOM files or directories (or PACS series), as save's --fixed
                  and --moving
  modifiers       a modifier chain (JSON), as save's --modifiers
  send_to         a peer each written REG is sent to, as save's --send-to
  fixed_volume, moving_volume
                  which volume of a directory holding several, as save's
                  --fixed-volume and --moving-volume
  max_field_size  the largest field the row may read (500MB, 8GiB), as
                  save's --max-field-size; an empty cell is batch's
                  --max-field-size, else the default
  {conventions}
                  the field's convention, as save's options of the same
                  names; an empty cell is ITK's ({defaults})
  set:FIELDNAME   any number of them: a field's value, as save's
                  --set FIELDNAME=VALUE (see 'dicomreg fields'); an empty cell
                  sets nothing"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``batch`` to the command line."""
    # Imported here, when batch's parser is built, not for every command (numpy).
    from dicomreg.core.deformation import CONVENTION_OPTIONS

    columns = _COLUMNS.format(conventions=", ".join(CONVENTION_OPTIONS),
                              defaults=", ".join(c[0] for c in CONVENTION_OPTIONS.values()))
    parser = subparsers.add_parser(
        "batch", help=COMMANDS["batch"], description=_DESCRIPTION, epilog=columns,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("manifest", help="the CSV manifest, one case per row (columns below)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="an existing Dask scheduler, e.g. tcp://host:8786")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes of the local cluster (default: cores)")
    parser.add_argument("--results", metavar="FILE.csv",
                        help="where the results go (default: MANIFEST.results.csv)")
    parser.add_argument("--force", action="store_true", help="also rerun the cases done")
    parser.add_argument("--no-dciodvfy", action="store_true",
                        help="do not let dciodvfy gate each file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--max-field-size", metavar="SIZE",
                        help="the largest field a row may read, for the rows whose "
                        "max_field_size cell is empty (500MB, 8GiB); default: "
                        "$DICOMREG_MAX_FIELD_BYTES, else half of physical memory")
    parser.set_defaults(runner=batch)


def batch(args: argparse.Namespace) -> int:
    """``dicomreg batch``: the counts, and each failed row's reason."""
    from dicomreg.core.regsave import run_batch

    results = run_batch(args.manifest, results=args.results, scheduler=args.scheduler,
                        workers=args.workers, force=args.force,
                        dciodvfy=not args.no_dciodvfy, progress=not args.no_progress,
                        max_field_size=args.max_field_size)
    counts = {status: sum(r.status == status for r in results)
              for status in ("done", "skipped", "failed")}
    target = args.results or str(Path(args.manifest).with_suffix(".results.csv"))
    print(f"{counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed; "
          f"results in {target}")
    for result in results:
        if result.status == "failed":
            print(f"  row {result.case}: {result.error}")
    return 1 if counts["failed"] else 0
