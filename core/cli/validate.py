"""``dicomreg validate``: a REG file checked by our own rules and by dciodvfy."""

from __future__ import annotations

import argparse
from pathlib import Path

from dicomreg.core.cli.command import add_command
from dicomreg.core.errors import DicomRegError

__all__ = ["COMMANDS", "add_parser", "validate"]

COMMANDS = {"validate": "check a REG file (and run dciodvfy)"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``validate`` to the command line."""
    parser = add_command(
        subparsers, COMMANDS, "validate", validate, reads_dicom=True,
        description="Check a Deformable Spatial Registration file with the checks dicomreg "
        "runs before it writes one (the IOD's Type 1 and 2 attributes and their conditions, "
        "every value against its VR, the grid, the matrix types, the Common Instance "
        "Reference), then with dciodvfy where it is installed. Exit status 1 when either "
        "finds an error.")
    parser.add_argument("file", help="the REG file to check")
    parser.add_argument("--no-dciodvfy", action="store_true",
                        help="only dicomreg's checks: do not run dciodvfy")


def _report_dciodvfy(path: Path, enabled: bool) -> int:
    from dicomreg.core.reg import NOT_INSTALLED, dciodvfy_available, print_dciodvfy, run_dciodvfy

    if not enabled:
        return 0
    if not dciodvfy_available():
        print(NOT_INSTALLED)
        return 0
    result = run_dciodvfy(path)
    print_dciodvfy(result)
    return 1 if result.errors else 0


def validate(args: argparse.Namespace) -> int:
    """``dicomreg validate``: our problems, then dciodvfy's verdict."""
    from pydicom.uid import UID, DeformableSpatialRegistrationStorage

    from dicomreg.core.dicom import read_header
    from dicomreg.core.reg import check_dataset

    path = Path(args.file)
    ds = read_header(path)
    sop_class = str(ds.get("SOPClassUID", ""))
    is_reg = sop_class == DeformableSpatialRegistrationStorage
    if not is_reg and "DeformableRegistrationSequence" not in ds:
        name = UID(sop_class).name if sop_class else "no SOP class"
        raise DicomRegError(f"'{path}' is an instance of {name}, not a Deformable Spatial "
                            "Registration: dicomreg validate checks REG files (dciodvfy "
                            "checks any DICOM file)")
    problems = check_dataset(ds)
    print(f"dicomreg checks: {len(problems)} problem(s)")
    for problem in problems:
        print(f"  {problem}")
    status = 1 if problems else 0
    return max(status, _report_dciodvfy(path, not args.no_dciodvfy))
