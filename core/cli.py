"""The ``dicomreg`` command line: save, read, validate, dump, scan, fields.

Every refusal is one line on stderr naming the cause and what is accepted, with exit status 1
(2 for a malformed command line), and no output file. A traceback means a bug in dicomreg.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydicom import config

from .checks import check_dataset
from .dciodvfy import DciodvfyResult, dciodvfy_available, run_dciodvfy
from .deformable_registration import right_handed_grid
from .dicom_file import read_header
from .dicom_series import read_dicom_headers
from .dicomregsave import DicomREGSave
from .displacement_field import FIELD_SUFFIXES, read_displacement_field, write_displacement_field
from .errors import DicomRegError
from .field_reference import field_reference
from .fields import field_by_name
from .modifiers import load_chain
from .reader import RegReadError, read_deformable_registration
from .tag_dump import DumpOptions, tag_dump
from .volume_list import read_volume, scan_volumes

__all__ = ["main"]

_CHECKED = ("checked before writing: every Type 1 and 2 attribute of the IOD's mandatory "
            "modules, every value against its VR, the grid (one item, orthonormal orientation, "
            "data length), the matrix types, and the Common Instance Reference")


def _assignments(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise DicomRegError(f"--set {pair!r}: expected NAME=VALUE, for example "
                                "--set contentLabel=DIR_CT_CBCT")
        field = field_by_name(name.strip())  # refuses an unknown name, suggesting close ones
        out[field.name] = value
    return out


class _DciodvfyGate:
    """Runs dciodvfy on the complete file before it is moved into place, refuses it on any
    error, and keeps the verdict to report."""

    def __init__(self) -> None:
        self.result: DciodvfyResult | None = None

    def __call__(self, path: Path) -> None:
        self.result = run_dciodvfy(path)
        if self.result.errors:
            raise DicomRegError(f"dciodvfy found {len(self.result.errors)} error(s), so "
                                f"nothing was written; first: {self.result.errors[0]}")


def _print_dciodvfy(result: DciodvfyResult) -> None:
    print(f"dciodvfy: {result}")
    for line in result.errors + result.warnings:
        print(f"  {line}")


def _report_dciodvfy(path: Path, enabled: bool) -> int:
    if not enabled:
        return 0
    if not dciodvfy_available():
        print("dciodvfy: not on PATH (Debian package dicom3tools); its check was skipped")
        return 0
    result = run_dciodvfy(path)
    _print_dciodvfy(result)
    return 1 if result.errors else 0


def _connect_base(module: DicomREGSave, path: str) -> None:
    """A directory becomes a volume list, a single file a DICOM tree, at inputBase."""
    if Path(path).is_dir():
        module.inputBase = scan_volumes(path)
    else:
        ds = read_dicom_headers(Path(path))
        if ds is None:
            raise DicomRegError(f"--base '{path}' is not a DICOM file or directory")
        module.inputBase = ds


def _has_inheritance_source(module: DicomREGSave) -> bool:
    selector = module.get("inputSelector")
    return {
        "ImageConnector #0": bool(module.input0 and module.input0.datasets),
        "ImageConnector #1": module.input1 is not None,
        "File": bool(module.get("unresolvedFileName").strip()),
        "BaseConnector": module.inputBase is not None,
    }[selector]


def _save(args: argparse.Namespace) -> int:
    assignments = _assignments(args.set)
    module = DicomREGSave(base_dir=Path.cwd())
    module.input0 = read_displacement_field(args.field)
    fixed = read_volume(args.fixed, args.fixed_volume, "--fixed-volume") if args.fixed else None
    moving = (read_volume(args.moving, args.moving_volume, "--moving-volume")
              if args.moving else None)
    if fixed is not None:
        # The field lives on the fixed image's grid: it carries the fixed image's DICOM.
        module.input0.datasets = fixed.datasets
    module.input1 = moving
    if args.inherit_file:
        module.set_many({"inputSelector": "File", "unresolvedFileName": args.inherit_file})
    if args.base:
        _connect_base(module, args.base)
        module.set_many({"inputSelector": "BaseConnector",
                         "inputVolumeIndex": args.base_volume})
    # The field file carries its own world matrix, the truth about where its vectors are:
    # the grid is taken from it unless the user asks for the DICOM source's geometry.
    module.set("worldMatrixInheritanceSource", "IMAGE_INPUT")
    # Options that steer inheritance apply first; every --set applies again afterwards, so
    # that the user's value wins over an inherited one.
    module.set_many(assignments)
    notes = []
    if moving is None and "sourceFrameOfReferenceUIDInheritanceSource" not in assignments:
        module.set("sourceFrameOfReferenceUIDInheritanceSource", "DICOM_INPUT")
        notes.append("no --moving: the source frame of reference is the inherited one "
                     "(a registration within one frame)")
    if _has_inheritance_source(module):
        report = module.inheritDICOMTags()
        notes += report.notes
        if args.verbose:
            print(f"inherited from {module.get('inputSelector')}:\n{report}")
    else:
        notes = []
        grid, _ = right_handed_grid(module.input0.geometry)
        module.set("imagePositionPatient", grid.origin)
        module.set("imageOrientationPatient", grid.image_orientation_patient)
        if moving is not None:
            module.set("sourceFrameOfReferenceUID",
                       str(moving.datasets[0].get("FrameOfReferenceUID", "")))
    if moving is not None:
        module.updateReferencedImageSequenceUIDInheritance()
    module.set_many(assignments)
    if args.modifiers:
        module.inputModifierList = load_chain(args.modifiers)
    module.set("fileName", str(Path(args.output).absolute()))
    gate = _DciodvfyGate() if not args.no_dciodvfy and dciodvfy_available() else None
    path = module.save(verify=gate)
    assert path is not None  # postBadParamErrors is on unless the user set it off
    voxels = module.input0.voxels
    assert voxels is not None and module.input0.geometry is not None
    size = "x".join(str(n) for n in voxels.shape[2::-1][:3])
    spacing = "x".join(f"{s:g}" for s in module.input0.geometry.spacing)
    print(f"wrote {path} ({path.stat().st_size} bytes): Deformable Spatial Registration, "
          f"{size} grid of {spacing} mm")
    print(f"  registered frame {module.get('frameOfReferenceUID')}"
          + (f" (fixed: {args.fixed})" if fixed else ""))
    references = len(moving.datasets) if moving else 0
    print(f"  source frame     {module.get('sourceFrameOfReferenceUID')}"
          + (f" (moving: {args.moving}, {references} instance(s) referenced)" if moving else ""))
    print(f"  study {module.get('studyInstanceUID')}, series {module.get('seriesInstanceUID')}")
    for note in notes:
        print(f"  note: {note}")
    print(_CHECKED + ": no problem")
    if gate is not None and gate.result is not None:
        _print_dciodvfy(gate.result)
    elif not args.no_dciodvfy:
        print("dciodvfy: not on PATH (Debian package dicom3tools); its check was skipped")
    return 0


def _scan(args: argparse.Namespace) -> int:
    volumes = scan_volumes(args.directory)
    if not volumes:
        raise DicomRegError(f"'{args.directory}' holds no DICOM instance")
    print(f"{len(volumes)} volume(s) in {args.directory}:")
    print(volumes.table())
    return 0


def _read(args: argparse.Namespace) -> int:
    registration = read_deformable_registration(args.reg)
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


def _validate(args: argparse.Namespace) -> int:
    path = Path(args.file)
    problems = check_dataset(read_header(path))
    print(f"dicomreg checks: {len(problems)} problem(s)")
    for problem in problems:
        print(f"  {problem}")
    status = 1 if problems else 0
    return max(status, _report_dciodvfy(path, not args.no_dciodvfy))


def _dump(args: argparse.Namespace) -> int:
    options = DumpOptions(annotate=args.annotate, private_values=args.private,
                          binary_bytes=args.binary_bytes, max_size=args.max_size,
                          line_filter=args.filter or "")
    print(tag_dump(read_header(args.file), options))
    return 0


def _fields(args: argparse.Namespace) -> int:
    print(field_reference(markdown=args.markdown), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dicomreg``."""
    parser = argparse.ArgumentParser(
        prog="dicomreg",
        description="DICOM Deformable Spatial Registration (REG) objects from displacement "
        "fields, rebuilding MeVisLab's DicomREGSave.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    save = commands.add_parser(
        "save", help="write a REG file from a displacement field",
        description="Write a Deformable Spatial Registration from FIELD, a displacement field "
        f"image ({' '.join(FIELD_SUFFIXES)}) as ITK writes it: LPS millimetres, on the fixed "
        "grid, pointing from each fixed voxel centre to its moving position (pull-back).")
    save.add_argument("field", help="displacement field image file")
    save.add_argument("-o", "--output", required=True, help="the REG file to write")
    save.add_argument("--fixed", help="fixed (registered) image: a DICOM file or a directory "
                      "holding one series; patient, study and frame of reference come from it "
                      "(the grid's position and orientation come from FIELD itself unless "
                      "--set worldMatrixInheritanceSource=DICOM_INPUT)")
    save.add_argument("--fixed-volume", type=int, metavar="N",
                      help="which volume of --fixed (see 'dicomreg scan') when it holds several")
    save.add_argument("--moving", help="moving (source) image: a DICOM file or a directory "
                      "holding one series; its frame of reference and every instance are "
                      "referenced")
    save.add_argument("--moving-volume", type=int, metavar="N",
                      help="which volume of --moving when it holds several")
    save.add_argument("--inherit-file", metavar="FILE", help="inherit the DICOM information "
                      "from this file instead (inputSelector=File)")
    save.add_argument("--base", metavar="PATH", help="inherit from a directory scanned into a "
                      "volume list, or a DICOM file (inputSelector=BaseConnector)")
    save.add_argument("--base-volume", type=int, default=0, metavar="N",
                      help="which volume of --base (inputVolumeIndex; default 0)")
    save.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                      help="set a field by its name (see 'dicomreg fields'), after inheritance")
    save.add_argument("--modifiers", metavar="FILE.json", help="modifier plugins to apply "
                      "before the checks and the writing (a JSON chain; see the README)")
    save.add_argument("--verbose", action="store_true", help="show what was inherited")
    save.add_argument("--no-dciodvfy", action="store_true",
                      help="do not run dciodvfy on the written file")
    save.set_defaults(run=_save)

    read = commands.add_parser("read", help="write a REG file's grid as a field image")
    read.add_argument("reg", help="a Deformable Spatial Registration file")
    read.add_argument("-o", "--output", required=True,
                      help=f"the field image to write ({' '.join(FIELD_SUFFIXES)})")
    read.add_argument("--item", type=int, help="which Deformable Registration Sequence item "
                      "(from 1); the first with a grid when not given")
    read.set_defaults(run=_read)

    validate = commands.add_parser("validate", help="check a REG file (and run dciodvfy)")
    validate.add_argument("file")
    validate.add_argument("--no-dciodvfy", action="store_true")
    validate.set_defaults(run=_validate)

    dump = commands.add_parser("dump", help="the tag dump of any DICOM file",
                               description="Dump any DICOM file's attributes, one per line, "
                               "as the module's Tag Dump shows them; bulk data is not read.")
    dump.add_argument("file")
    dump.add_argument("--annotate", action="store_true",
                      help="add each attribute's Types in the REG IOD and its modules")
    dump.add_argument("--private", action="store_true",
                      help="decode private values where a private dictionary is known")
    dump.add_argument("--filter", metavar="REGEX", help="keep the lines the expression "
                      "matches as a whole, e.g. '.*[[:digit:]].*' or '.*(0020,000D).*'")
    dump.add_argument("--binary-bytes", type=int, default=8, metavar="N",
                      help="bytes shown of binary values (default 8)")
    dump.add_argument("--max-size", type=int, default=1_000_000, metavar="N",
                      help="at most N characters (default 1000000)")
    dump.set_defaults(run=_dump)

    scan = commands.add_parser("scan", help="list the DICOM volumes under a directory",
                               description="Scan a directory (recursively, headers only) "
                               "into volumes, as inputBase and --fixed/--moving see them.")
    scan.add_argument("directory")
    scan.set_defaults(run=_scan)

    fields = commands.add_parser("fields", help="list the module's fields")
    fields.add_argument("--markdown", action="store_true", help="the reference as Markdown")
    fields.set_defaults(run=_fields)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dicomreg``; return the exit status."""
    args = build_parser().parse_args(argv)
    # Values read from sources are validated by our own rules when inherited (an invalid one
    # is reported and not copied); pydicom's reading warnings would only repeat that as noise.
    reading_mode = config.settings.reading_validation_mode
    config.settings.reading_validation_mode = config.IGNORE
    try:
        return int(args.run(args))
    except DicomRegError as error:
        print(f"dicomreg {args.command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a full disk, a permission: nothing was written
        print(f"dicomreg {args.command}: error: {error}", file=sys.stderr)
        return 1
    finally:
        config.settings.reading_validation_mode = reading_mode


if __name__ == "__main__":
    sys.exit(main())
