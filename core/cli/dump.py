"""``dicomreg dump``: the tag dump of any DICOM file."""

from __future__ import annotations

import argparse

from dicomreg.core.cli.command import add_command

__all__ = ["COMMANDS", "add_parser", "dump"]

COMMANDS = {"dump": "the tag dump of any DICOM file"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dump`` to the command line."""
    parser = add_command(
        subparsers, COMMANDS, "dump", dump, reads_dicom=True,
        description="Dump any DICOM file's attributes, one per line, as the module's Tag Dump "
        "shows them; bulk data is not read.")
    parser.add_argument("file", help="any DICOM file")
    parser.add_argument("--annotate", action="store_true",
                        help="add each attribute's Types in the REG IOD and its modules")
    parser.add_argument("--private", action="store_true",
                        help="decode private values where a private dictionary is known")
    parser.add_argument("--filter", metavar="REGEX", help="keep the lines the expression "
                        "matches as a whole, e.g. '.*[[:digit:]].*' or '.*(0020,000D).*'")
    parser.add_argument("--binary-bytes", type=int, default=8, metavar="N",
                        help="bytes shown of binary values (default 8)")
    parser.add_argument("--max-size", type=int, default=1_000_000, metavar="N",
                        help="at most N characters (default 1000000)")


def dump(args: argparse.Namespace) -> int:
    """``dicomreg dump``: the file's tag dump on stdout."""
    from dicomreg.core.dicom import DumpOptions, read_header, tag_dump

    options = DumpOptions(annotate=args.annotate, private_values=args.private,
                          binary_bytes=args.binary_bytes, max_size=args.max_size,
                          line_filter=args.filter or "")
    print(tag_dump(read_header(args.file), options))
    return 0
