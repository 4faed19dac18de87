"""``dicomreg scan``: the DICOM volumes under a directory.

It reads headers only, through the fast header scan: pydicom's import alone would take
longer than scanning thousands of headers, so neither this module nor its runner imports it.
"""

from __future__ import annotations

import argparse

from dicomreg.core.cli.command import add_command
from dicomreg.core.errors import DicomRegError

__all__ = ["COMMANDS", "add_parser", "scan"]

COMMANDS = {"scan": "list the DICOM volumes under a directory"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``scan`` to the command line."""
    parser = add_command(
        subparsers, COMMANDS, "scan", scan,
        description="Scan a directory (recursively, headers only) into volumes, as inputBase "
        "and --fixed/--moving see them.")
    parser.add_argument("directory", help="the directory to scan, with its subdirectories")


def scan(args: argparse.Namespace) -> int:
    """``dicomreg scan``: one entry per volume found."""
    from dicomreg.core.dicom import scan_volumes

    volumes = scan_volumes(args.directory)
    if not volumes:
        raise DicomRegError(f"'{args.directory}' holds no DICOM instance")
    print(f"{len(volumes)} volume(s) in {args.directory}:")
    print(volumes.table())
    for note in volumes.notes():  # what was passed over, on stdout beside the table
        print(f"note: {note}")
    return 0
