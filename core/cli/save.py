"""``dicomreg save``: a displacement field (or an ITK transform file) and its DICOM context
into a REG file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from dicomreg.core.cli.command import add_command
from dicomreg.core.cli.net import add_net_options, net_options, print_outcomes
from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import FIELD_SUFFIXES, TRANSFORM_SUFFIXES

__all__ = ["COMMANDS", "add_parser", "save"]

COMMANDS = {"save": "write a REG file from a displacement field"}

# What each convention option's other value means; the options, their values and their
# defaults (the first value) are the deformation package's CONVENTION_OPTIONS.
_CONVENTION_HELP = {
    "components": "ras: x and y negated, as NiftyReg and NIfTI tools write",
    "units": "voxel: steps along the grid's axes",
    "kind": "deformation: absolute moving positions, not displacements",
    "direction": "push: from moving to fixed, on the moving grid; inverted numerically onto "
                 "the fixed grid, with the residual reported",
}

_CHECKED = ("checked before writing: every Type 1 and 2 attribute of the IOD's mandatory "
            "modules, every value against its VR, the grid (one item, orthonormal orientation, "
            "data length), the matrix types, and the Common Instance Reference")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add ``save`` to the command line."""
    # Imported here, when save's parser is built, not for every command: the conventions'
    # module needs numpy.
    from dicomreg.core.deformation import CONVENTION_OPTIONS

    parser = add_command(
        subparsers, COMMANDS, "save", save, reads_dicom=True,
        description="Write a Deformable Spatial Registration from FIELD, a displacement field "
        f"image ({' '.join(FIELD_SUFFIXES)}) as ITK writes it: LPS millimetres, on the fixed "
        "grid, pointing from each fixed voxel centre to its moving position (pull-back).")
    parser.add_argument("field", help="displacement field image file, or an ITK transform "
                        "file (" + " ".join(TRANSFORM_SUFFIXES) + "): a displacement field "
                        "transform keeps its grid, a B-spline is sampled on the fixed grid, a "
                        "composite's linear parts become the pre/post-deformation matrices")
    conventions = parser.add_argument_group(
        "field conventions", "how FIELD was written, when not as ITK writes it (LPS "
        "millimetre displacements from fixed to moving)")
    for option, choices in CONVENTION_OPTIONS.items():
        conventions.add_argument(f"--{option}", choices=choices, default=choices[0],
                                 help=_CONVENTION_HELP.get(option))
    add_reg_options(parser)


def add_reg_options(parser: argparse.ArgumentParser, images: bool = True) -> None:
    """The options of the REG's fields, shared by ``save`` and ``register``: the output, the
    DICOM sources (``--fixed``/``--moving`` unless ``images`` is False: ``register`` takes
    them as its arguments), ``--set``, the modifiers, and the checks."""
    parser.add_argument("-o", "--output", required=True, help="the REG file to write, or an "
                        "existing directory to write REG_<SOPInstanceUID>.dcm in")
    _add_sources(parser, images)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="set a field by its name (see 'dicomreg fields'), after "
                        "inheritance")
    parser.add_argument("--modifiers", metavar="FILE.json", help="modifier plugins to apply "
                        "before the checks and the writing (a JSON chain; see the README)")
    parser.add_argument("--verbose", action="store_true", help="show what was inherited")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no notes and no progress (progress is shown only on a terminal)")
    parser.add_argument("--max-field-size", metavar="SIZE",
                        help="the largest field to read, in bytes with an optional unit "
                        "(500MB, 8GiB); default: $DICOMREG_MAX_FIELD_BYTES, else half of "
                        "physical memory")
    parser.add_argument("--no-dciodvfy", action="store_true",
                        help="do not run dciodvfy on the written file")
    parser.add_argument("--send-to", metavar="PEER", help="then send the written file to "
                        "AET@HOST:PORT (C-STORE) or a DICOMweb root URL (STOW-RS); it stays "
                        "on disk")
    add_net_options(parser)


def _add_sources(parser: argparse.ArgumentParser, images: bool) -> None:
    """The DICOM the REG inherits from and references."""
    if images:
        _add_images(parser)
    parser.add_argument("--inherit-file", metavar="FILE", help="inherit the DICOM information "
                        "from this file instead (inputSelector=File)")
    parser.add_argument("--base", metavar="PATH", help="inherit from a directory scanned into "
                        "a volume list, or a DICOM file (inputSelector=BaseConnector)")
    parser.add_argument("--base-volume", type=int, default=0, metavar="N",
                        help="which volume of --base (inputVolumeIndex; default 0)")


def _add_images(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fixed", help="fixed (registered) image: a DICOM file or a directory "
                        "holding one series, or a PACS series (AET@HOST:PORT/STUDY_UID/"
                        "SERIES_UID, or a DICOMweb series URL) fetched into the cache; "
                        "patient, study and frame of reference come from "
                        "it (the grid's position and orientation come from FIELD itself unless "
                        "--set worldMatrixInheritanceSource=DICOM_INPUT)")
    parser.add_argument("--fixed-volume", type=int, metavar="N", help="which volume of "
                        "--fixed (see 'dicomreg scan') when it holds several")
    parser.add_argument("--moving", help="moving (source) image: a DICOM file, a directory "
                        "holding one series, or a PACS series as --fixed; its frame of "
                        "reference and every instance are referenced")
    parser.add_argument("--moving-volume", type=int, metavar="N",
                        help="which volume of --moving when it holds several")


def _assignments(pairs: Sequence[str]) -> dict[str, str]:
    from dicomreg.core.fields import field_by_name

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise DicomRegError(f"--set {pair!r}: expected NAME=VALUE, for example "
                                "--set contentLabel=DIR_CT_CBCT")
        field = field_by_name(name.strip())  # refuses an unknown name, suggesting close ones
        out[field.name] = value
    return out


def save_request(args: argparse.Namespace, **given: object):
    """The SaveRequest of the REG options in ``args`` (see :func:`add_reg_options`), with
    ``given`` (the field, or a loaded deformation) on top."""
    from dicomreg.core.input import parse_size, set_max_field_bytes
    from dicomreg.core.regsave import SaveRequest

    if args.max_field_size is not None:
        set_max_field_bytes(parse_size(args.max_field_size))
    values = dict(
        output=args.output, fixed=args.fixed, fixed_volume=args.fixed_volume,
        moving=args.moving, moving_volume=args.moving_volume, inherit_file=args.inherit_file,
        base=args.base, base_volume=args.base_volume, assignments=_assignments(args.set),
        modifiers=args.modifiers, dciodvfy=not args.no_dciodvfy, net=net_options(args))
    values.update(given)
    return SaveRequest(**values)


def save(args: argparse.Namespace) -> int:
    """``dicomreg save``: one REG file, and what was written and checked."""
    from dicomreg.core.cli.progress import terminal_progress
    from dicomreg.core.regsave import save_registration

    with terminal_progress("writing the REG", args.quiet) as progress:
        result = save_registration(save_request(
            args, field=args.field, components=args.components, units=args.units,
            kind=args.kind, direction=args.direction, progress=progress))
    return print_saved(args, result)


def print_saved(args: argparse.Namespace, result) -> int:
    """What was written and checked, for ``save`` and ``register``; then, with
    ``--send-to``, the file sent. Returns the exit status."""
    from dicomreg.core.reg import NOT_INSTALLED, print_dciodvfy

    module, path = result.module, result.path
    if args.verbose and result.report is not None:
        print(f"inherited from {module.get('inputSelector')}:\n{result.report}")
    assert module.input0.voxels is not None and module.input0.geometry is not None
    size = module.input0.dimensions
    spacing = "x".join(f"{s:g}" for s in module.input0.geometry.spacing)
    print(f"wrote {path} ({path.stat().st_size} bytes): Deformable Spatial Registration, "
          f"{size} grid of {spacing} mm")
    print(f"  registered frame {module.get('frameOfReferenceUID')}"
          + (f" (fixed: {args.fixed})" if args.fixed else ""))
    print(f"  source frame     {module.get('sourceFrameOfReferenceUID')}"
          + (f" (moving: {args.moving}, {result.references} instance(s) referenced)"
             if args.moving else ""))
    print(f"  study {module.get('studyInstanceUID')}, series {module.get('seriesInstanceUID')}")
    for note in [] if args.quiet else result.notes:
        print(f"  note: {note}")
    print(_CHECKED + ": no problem")
    if result.dciodvfy is not None:
        print_dciodvfy(result.dciodvfy)
    elif not args.no_dciodvfy:
        print(NOT_INSTALLED)
    if args.send_to:
        from dicomreg.core.net import send_files

        return print_outcomes(send_files(args.send_to, [path], net_options(args)),
                              args.send_to)
    return 0
