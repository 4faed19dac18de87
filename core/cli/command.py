"""One command's parser, as every command module adds it: its name, its one-line help from the
module's ``COMMANDS``, its description, and what runs it."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

__all__ = ["add_command"]


def add_command(subparsers: argparse._SubParsersAction, commands: Mapping[str, str], name: str,
                runner: Callable[[argparse.Namespace], int], *, description: str,
                reads_dicom: bool = False) -> argparse.ArgumentParser:
    """Add command ``name`` and return its parser, for the module to add its arguments.

    ``reads_dicom`` marks a command that reads DICOM through pydicom, whose reading warnings
    the command line then quiets (see :func:`dicomreg.core.cli.main.main`).
    """
    parser = subparsers.add_parser(name, help=commands[name], description=description)
    parser.set_defaults(runner=runner, reads_dicom=reads_dicom)
    return parser
