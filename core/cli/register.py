"""``dicomreg register``: register a moving series to a fixed one and save the REG, in one
step; the quality report is written beside it as JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dicomreg.core.cli.command import add_command
from dicomreg.core.cli.save import add_reg_options, print_saved, save_request

__all__ = ["COMMANDS", "add_parser", "register"]

COMMANDS = {"register": "register a moving image to a fixed one and write the REG"}

_METHODS = ("rigid", "affine", "bspline", "demons", "elastix")  # the registration package's


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``register`` to the command line."""
    parser = add_command(
        subparsers, COMMANDS, "register", register, reads_dicom=True,
        description="Register MOVING to FIXED (SimpleITK, or elastix) and write the REG: the "
        "linear stage as the pre-deformation matrix, the deformable stage as the grid on the "
        "fixed grid (the standard's p -> Pre p + D(p)). The quality report (similarity "
        "before and after, the Jacobian's minimum and folding voxels, the largest "
        "displacement) is printed and written to OUTPUT.quality.json.")
    parser.add_argument("fixed", help="fixed (registered) image: a DICOM file or a directory "
                        "holding one series")
    parser.add_argument("moving", help="moving (source) image: a DICOM file or a directory "
                        "holding one series; every instance is referenced")
    parser.add_argument("--fixed-volume", type=int, metavar="N", help="which volume of FIXED")
    parser.add_argument("--moving-volume", type=int, metavar="N",
                        help="which volume of MOVING")
    parser.add_argument("--method", choices=_METHODS, default="bspline",
                        help="rigid, affine, bspline (default), demons or elastix")
    parser.add_argument("--params", action="append", default=[], metavar="FILE",
                        help="settings: a JSON object of settings by name (see the README); "
                        "for elastix also its parameter files (any other suffix than .json), "
                        "one per stage in order")
    parser.add_argument("--fixed-mask", metavar="PATH", help="where the metric looks in FIXED "
                        "(an image, non-zero inside, on any grid overlapping it)")
    parser.add_argument("--moving-mask", metavar="PATH", help="the same for MOVING")
    parser.add_argument("--seed", type=int, help="the random sampling's seed (a fixed default: "
                        "reruns give the same result)")
    parser.add_argument("--fold-affine", action="store_true", help="fold the linear stage "
                        "into the grid (identity pre-deformation matrix)")
    add_reg_options(parser, images=False)


def _progress(report) -> bool:
    """Progress on stderr when it is a terminal, rewritten in place."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r{report.describe()}\033[K")
        sys.stderr.flush()
    return True


def register(args: argparse.Namespace) -> int:
    """``dicomreg register``: register, save, report."""
    from dicomreg.core.registration import load_image, load_settings, settings_for
    from dicomreg.core.registration import register as run_registration
    from dicomreg.core.regsave import save_registration

    params = load_settings(args.params, args.method)
    # the settings refused before the images are read (a CT series takes seconds)
    settings_for(args.method, params, masked=bool(args.fixed_mask or args.moving_mask))
    fixed = load_image(args.fixed, args.fixed_volume, "--fixed-volume", "fixed image")
    moving = load_image(args.moving, args.moving_volume, "--moving-volume", "moving image")
    masks = tuple(load_image(m, role=role) if m else None for m, role in (
        (args.fixed_mask, "--fixed-mask"), (args.moving_mask, "--moving-mask")))
    extra = {} if args.seed is None else {"seed": args.seed}
    result = run_registration(fixed, moving, args.method, params,
                              masks if any(masks) else None, progress=_progress,
                              fold_affine=args.fold_affine, **extra)
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    saved = save_registration(save_request(args, field="", deformation=result.deformation))
    report_path = Path(f"{saved.path}.quality.json")
    result.quality.write(report_path)
    print(f"quality: {result.quality.describe()} ({result.quality.seconds:.1f} s); "
          f"written to {report_path}")
    return print_saved(args, saved)
