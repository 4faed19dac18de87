"""``dicomreg read``, ``warp`` and ``map``: a REG file read back, and applied to an image or
to a point."""

from __future__ import annotations

import argparse
import sys

from dicomreg.core.cli.command import add_command
from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import FIELD_SUFFIXES, file_suffix
from dicomreg.core.output import IMAGE_FILE, check_output_path, refuse_overwriting_inputs

__all__ = ["COMMANDS", "add_parser", "map_point", "read", "warp"]

COMMANDS = {
    "read": "write a REG file's grid as a field image",
    "warp": "resample a moving image onto the fixed grid through a REG",
    "map": "map one fixed point to its moving position",
}

_REG_HELP = "the Deformable Spatial Registration file"
_THROUGH = "through the REG (pre-deformation matrix, grid, post-deformation matrix)"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``read``, ``warp`` and ``map`` to the command line."""
    for add in (_add_read, _add_warp, _add_map):
        _add_reading_options(add(subparsers))


def _add_read(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, COMMANDS, "read", read,
        description="Write the deformable grid of REG as a displacement field image, in ITK's "
        "convention (LPS millimetres, pull-back). The pre- and post-deformation matrices, "
        "which a field file cannot hold, are printed when they are not the identity.")
    parser.add_argument("reg", help=_REG_HELP)
    parser.add_argument("-o", "--output", required=True,
                        help=f"the field image to write ({' '.join(FIELD_SUFFIXES)})")
    return parser


def _add_warp(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, COMMANDS, "warp", warp,
        description="Resample MOVING (an image file, or a DICOM file or directory) "
        f"{_THROUGH} onto the REG's grid, or onto the grid of --reference, to check a "
        "registration by looking at it.")
    parser.add_argument("reg", help=_REG_HELP)
    parser.add_argument("moving", help="the moving image: an image file, or a DICOM file or a "
                        "directory holding one series")
    parser.add_argument("-o", "--output", required=True, help="the warped image file to write")
    parser.add_argument("--reference", help="a DICOM series or image file whose grid the "
                        "output takes (the fixed image)")
    parser.add_argument("--moving-volume", type=int, metavar="N",
                        help="which volume of MOVING when it holds several")
    parser.add_argument("--undefined-value", type=float, default=-1024.0, metavar="V",
                        help="the value where the field is undefined or leaves the moving "
                        "image")
    return parser


def _add_map(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = add_command(
        subparsers, COMMANDS, "map", map_point,
        description=f"Map the point X Y Z of the fixed (registered) frame {_THROUGH} to its "
        "position in the moving (source) frame.")
    parser.add_argument("reg", help=_REG_HELP)
    # Three positionals, not one of nargs=3: argparse cannot format a positional's tuple
    # metavar (its help and its usage error ended in a traceback).
    for axis in "xyz":
        parser.add_argument(axis, type=float, metavar=axis.upper(),
                            help=f"the fixed point's {axis} in mm (LPS)")
    return parser


def _add_reading_options(parser: argparse.ArgumentParser) -> None:
    """Which item to read, and the known faults of other writers to read through."""
    parser.add_argument("--item", type=int, help="which Deformable Registration Sequence item "
                        "(from 1); the first with a grid when not given")
    faults = parser.add_argument_group(
        "files that break the standard", "read them anyway, when the intent is clear")
    faults.add_argument("--accept-spatial-registration-class", action="store_true",
                        help="deformable content filed under the rigid Spatial Registration "
                        "SOP class")
    faults.add_argument("--vector-units", choices=("mm", "voxel"), default="mm",
                        help="voxel: the file's vectors are in voxel steps (a known fault)")
    faults.add_argument("--ignore-extra-bytes", action="store_true",
                        help="Vector Grid Data longer than its Grid Dimensions need")
    parser.set_defaults(reads_dicom=True)


def _registration(args: argparse.Namespace):
    """The REG named on the command line, read with the fault options given, notes shown."""
    from dicomreg.core.reg import read_deformable_registration

    registration = read_deformable_registration(
        args.reg, accept_spatial_registration_class=args.accept_spatial_registration_class,
        vector_units=args.vector_units, ignore_extra_bytes=args.ignore_extra_bytes)
    for note in registration.notes:
        print(f"note: {note}")
    return registration


def _item(registration, number: int | None) -> int | None:
    if number is None:
        return None
    if not 1 <= number <= len(registration.items):
        raise DicomRegError(f"--item {number}: the file has items 1 to "
                            f"{len(registration.items)}")
    if registration.items[number - 1].grid is None:
        raise DicomRegError(f"item {number} holds no grid")
    return number - 1


def read(args: argparse.Namespace) -> int:
    """``dicomreg read``: the REG's grid written as a field image."""
    import numpy as np

    from dicomreg.core.deformation import write_displacement_field
    from dicomreg.core.reg import RegReadError

    registration = _registration(args)
    if args.item is None:
        item = registration.deformable_item
    else:
        if not 1 <= args.item <= len(registration.items):
            raise DicomRegError(f"--item {args.item}: the file has items 1 to "
                                f"{len(registration.items)}")
        item = registration.items[args.item - 1]
        if item.grid is None:
            raise RegReadError(f"item {args.item} of '{args.reg}' holds no grid")
    assert item.grid is not None
    refuse_overwriting_inputs(args.output, {"the REG file": args.reg})
    check_output_path(args.output, IMAGE_FILE)
    write_displacement_field(item.grid, args.output)
    print(f"wrote {args.output}: the grid of {args.reg} "
          f"({'x'.join(str(n) for n in item.grid.geometry.size)} vectors, source frame "
          f"{item.source_frame_of_reference_uid})")
    for which, matrix, kind in (("pre", item.pre_matrix, item.pre_matrix_type),
                                ("post", item.post_matrix, item.post_matrix_type)):
        if matrix is not None and not np.allclose(matrix, np.eye(4)):
            rows = ", ".join(" ".join(f"{v:g}" for v in row) for row in matrix)
            print(f"  note: the {which}-deformation matrix ({kind}) is not the identity and "
                  f"is not part of the field file: {rows}")
    return 0


def warp(args: argparse.Namespace) -> int:
    """``dicomreg warp``: the moving image resampled through the REG."""
    import SimpleITK as sitk

    from dicomreg.core.image import Geometry
    from dicomreg.core.itk import itk_reason
    from dicomreg.core.output import atomic_output
    from dicomreg.core.reg import read_moving_image, warp_image

    if file_suffix(args.output) not in FIELD_SUFFIXES:
        raise DicomRegError(f"output '{args.output}': the warped image is written as an image "
                            f"file; name it with one of {' '.join(FIELD_SUFFIXES)}")
    refuse_overwriting_inputs(args.output, {"the REG file": args.reg, "the moving image":
                                            args.moving, "the reference": args.reference})
    check_output_path(args.output, IMAGE_FILE)  # before the work, not only after it
    registration = _registration(args)
    item = _item(registration, args.item)
    moving = read_moving_image(args.moving, args.moving_volume)
    reference = None
    if args.reference:
        image = read_moving_image(args.reference)
        reference = Geometry.from_itk(image.GetSize(), image.GetSpacing(), image.GetOrigin(),
                                      image.GetDirection())
    result = warp_image(registration, moving, reference, item, args.undefined_value)
    warped, coverage = result.image, result.coverage
    with atomic_output(args.output, replaces=IMAGE_FILE) as temporary:
        # The output's suffix decides the format; the temporary file keeps it.
        try:
            sitk.WriteImage(warped, str(temporary), useCompression=True)
        except RuntimeError as error:
            raise DicomRegError(f"cannot write '{args.output}': {itk_reason(error)}") from None
    size = "x".join(str(n) for n in warped.GetSize())
    print(f"wrote {args.output}: {args.moving} warped onto the {size} "
          f"{'reference' if reference else 'registration'} grid "
          f"({coverage:.0%} of its points map inside the moving image)")
    if coverage == 0.0:
        print(f"dicomreg warp: warning: no point of the grid maps inside {args.moving}; "
              "is it the registration's moving image?", file=sys.stderr)
    return 0


def map_point(args: argparse.Namespace) -> int:
    """``dicomreg map``: one fixed point's moving position."""
    from dicomreg.core.reg import map_points

    registration = _registration(args)
    index = _item(registration, args.item)
    chosen = registration.deformable_item if index is None else registration.items[index]
    point = [args.x, args.y, args.z]
    mapped = map_points(registration, [point], index)[0]
    fixed = " ".join(f"{v:g}" for v in point)
    if any(v != v for v in mapped):  # NaN: undefined there
        print(f"{fixed} -> undefined (the field is undefined at that point)")
    else:
        print(f"{fixed} -> {' '.join(f'{v:.4f}' for v in mapped)} (mm, LPS, in the moving "
              f"frame {chosen.source_frame_of_reference_uid})")
    return 0
