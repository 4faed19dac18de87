"""``dicomreg fields``: the module's fields, by the names ``--set`` and flows use."""

from __future__ import annotations

import argparse

from dicomreg.core.cli.command import add_command

__all__ = ["COMMANDS", "add_parser", "fields"]

COMMANDS = {"fields": "list the module's fields"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``fields`` to the command line."""
    parser = add_command(
        subparsers, COMMANDS, "fields", fields,
        description="List every field of the DicomREGSave module, one per line: its name (as "
        "'save --set NAME=VALUE', a batch manifest's set:NAME column and a flow's --set "
        "NODE.NAME=VALUE take it), its type and its default. With --markdown, the whole "
        "reference: titles, groups, accepted values and meanings.")
    parser.add_argument("--markdown", action="store_true", help="the reference as Markdown")


def fields(args: argparse.Namespace) -> int:
    """``dicomreg fields``: the field reference on stdout."""
    from dicomreg.core.fields import field_reference

    print(field_reference(markdown=args.markdown), end="")
    return 0
