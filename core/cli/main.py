"""The ``dicomreg`` command line: save, run, editor, read, warp, map, validate, dump, scan,
batch, fields.

Every refusal is one line on stderr naming the cause and what is accepted, with exit status 1
(2 for a malformed command line), and no output file. A traceback means a bug in dicomreg.

Each command's module is imported only when that command runs: ``dicomreg scan`` then
needs neither pydicom nor SimpleITK, whose imports alone take longer than scanning
thousands of headers.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from dicomreg.core.errors import DicomRegError
from dicomreg.core.formats import FIELD_SUFFIXES, TRANSFORM_SUFFIXES

__all__ = ["build_parser", "main"]

# Commands that read DICOM through pydicom, whose reading warnings are quieted (see main).
_PYDICOM_COMMANDS = {"save", "read", "validate", "dump", "warp", "map", "run"}


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
    save.add_argument("field", help="displacement field image file, or an ITK transform file "
                      "(" + " ".join(TRANSFORM_SUFFIXES) + "): a displacement field transform "
                      "keeps its grid, a B-spline is sampled on the fixed grid, a composite's "
                      "linear parts become the pre/post-deformation matrices")
    conventions = save.add_argument_group(
        "field conventions", "how FIELD was written, when not as ITK writes it (LPS "
        "millimetre displacements from fixed to moving)")
    conventions.add_argument("--components", choices=("lps", "ras"), default="lps",
                             help="ras: x and y negated, as NiftyReg and NIfTI tools write")
    conventions.add_argument("--units", choices=("mm", "voxel"), default="mm",
                             help="voxel: steps along the grid's axes")
    conventions.add_argument("--kind", choices=("displacement", "deformation"),
                             default="displacement",
                             help="deformation: absolute moving positions, not displacements")
    conventions.add_argument("--direction", choices=("pull", "push"), default="pull",
                             help="push: from moving to fixed, on the moving grid; inverted "
                             "numerically onto the fixed grid, with the residual reported")
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
    save.set_defaults(run=("dicomreg.core.regsave.save_request", "save"))

    warp = commands.add_parser(
        "warp", help="resample a moving image onto the fixed grid through a REG",
        description="Resample MOVING (an image file, or a DICOM file or directory) through "
        "the REG (pre-deformation matrix, grid, post-deformation matrix) onto the REG's grid, "
        "or onto the grid of --reference, to check a registration by looking at it.")
    warp.add_argument("reg")
    warp.add_argument("moving")
    warp.add_argument("-o", "--output", required=True, help="the warped image file to write")
    warp.add_argument("--reference", help="a DICOM series or image file whose grid the "
                      "output takes (the fixed image)")
    warp.add_argument("--moving-volume", type=int, metavar="N",
                      help="which volume of MOVING when it holds several")
    warp.add_argument("--undefined-value", type=float, default=-1024.0, metavar="V",
                      help="the value where the field is undefined or leaves the moving image")
    map_ = commands.add_parser("map", help="map one fixed point to its moving position")
    map_.add_argument("reg")
    map_.add_argument("point", nargs=3, type=float, metavar=("X", "Y", "Z"),
                      help="a fixed point in mm (LPS)")
    for command, runner in ((warp, "warp"), (map_, "map_point")):
        command.add_argument("--item", type=int, help="the Deformable Registration Sequence "
                             "item (from 1); the first with a grid when not given")
        command.set_defaults(run=("commands", runner))

    read = commands.add_parser("read", help="write a REG file's grid as a field image")
    read.add_argument("reg", help="a Deformable Spatial Registration file")
    read.add_argument("-o", "--output", required=True,
                      help=f"the field image to write ({' '.join(FIELD_SUFFIXES)})")
    read.add_argument("--item", type=int, help="which Deformable Registration Sequence item "
                      "(from 1); the first with a grid when not given")
    read.set_defaults(run=("commands", "read"))
    for command in (read, warp, map_):
        faults = command.add_argument_group(
            "files that break the standard", "read them anyway, when the intent is clear")
        faults.add_argument("--accept-spatial-registration-class", action="store_true",
                            help="deformable content filed under the rigid Spatial "
                            "Registration SOP class")
        faults.add_argument("--vector-units", choices=("mm", "voxel"), default="mm",
                            help="voxel: the file's vectors are in voxel steps (a known fault)")
        faults.add_argument("--ignore-extra-bytes", action="store_true",
                            help="Vector Grid Data longer than its Grid Dimensions need")

    validate = commands.add_parser("validate", help="check a REG file (and run dciodvfy)")
    validate.add_argument("file")
    validate.add_argument("--no-dciodvfy", action="store_true")
    validate.set_defaults(run=("commands", "validate"))

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
    dump.set_defaults(run=("commands", "dump"))

    run = commands.add_parser(
        "run", help="run a flow headless (inherit, then save)",
        description="Run a saved flow without the editor: every source node reads its files, "
        "each DicomREGSave node inherits, references and saves. Needs the flows extra "
        "(pip install 'ryven-dicomreg[flows]').")
    run.add_argument("flow", help="a flow file saved by the editor or by dicomreg")
    run.add_argument("--set", action="append", default=[], metavar="NODE.FIELD=VALUE",
                     help="set a node's field or setting first, e.g. "
                     "DicomREGSave.contentLabel=DIR_CT or DicomImport#2.directory=data/ct2")
    run.add_argument("--no-dciodvfy", action="store_true", help="do not run dciodvfy")
    run.set_defaults(run=("dicomreg.nodes.commands", "run"))

    editor = commands.add_parser(
        "editor", help="open the Ryven editor with the dicomreg nodes",
        description="Open the Ryven editor (PySide6) with the dicomreg node package loaded, "
        "and FLOW if given. Needs the gui extra (pip install 'ryven-dicomreg[gui]').")
    editor.add_argument("flow", nargs="?")
    editor.set_defaults(run=("dicomreg.nodes.commands", "editor"))

    batch = commands.add_parser(
        "batch", help="one save per row of a CSV manifest, in parallel (Dask)",
        description="Run one save per row of MANIFEST.csv (columns field, output, and "
        "optionally fixed, moving, modifiers, set:FIELDNAME; paths relative to the manifest) "
        "on a local cluster of worker processes, or on an existing Dask cluster. A failing "
        "case never stops the others; the results go to a CSV file.")
    batch.add_argument("manifest")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="an existing Dask scheduler, e.g. tcp://host:8786")
    batch.add_argument("--workers", type=int, metavar="N",
                       help="worker processes of the local cluster (default: cores)")
    batch.add_argument("--results", metavar="FILE.csv",
                       help="where the results go (default: MANIFEST.results.csv)")
    batch.add_argument("--force", action="store_true", help="also rerun the cases done")
    batch.add_argument("--no-dciodvfy", action="store_true",
                       help="do not let dciodvfy gate each file")
    batch.add_argument("--no-progress", action="store_true", help="no progress bar")
    batch.set_defaults(run=("commands", "batch"))

    scan = commands.add_parser("scan", help="list the DICOM volumes under a directory",
                               description="Scan a directory (recursively, headers only) "
                               "into volumes, as inputBase and --fixed/--moving see them.")
    scan.add_argument("directory")
    scan.set_defaults(run=("commands", "scan"))

    fields = commands.add_parser("fields", help="list the module's fields")
    fields.add_argument("--markdown", action="store_true", help="the reference as Markdown")
    fields.set_defaults(run=("commands", "fields"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dicomreg``; return the exit status."""
    args = build_parser().parse_args(argv)
    module_name, function_name = args.run
    config = None
    if args.command in _PYDICOM_COMMANDS:
        # Values read from sources are validated by our own rules when inherited (an invalid
        # one is reported and not copied); pydicom's reading warnings would only repeat that.
        from pydicom import config

        reading_mode = config.settings.reading_validation_mode
        config.settings.reading_validation_mode = config.IGNORE
    try:
        # Commands of other sub-packages (the flows of dicomreg.nodes) are named in full.
        module = (importlib.import_module(module_name) if module_name.startswith("dicomreg.")
                  else importlib.import_module(f".{module_name}", __package__))
        command = getattr(module, function_name)
        return int(command(args))
    except DicomRegError as error:
        print(f"dicomreg {args.command}: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Whoever read our output has gone (``| head``): the work is done, and there is no
        # one left to tell. Point stdout at nowhere so that the exit does not fail again.
        with open(os.devnull, "w") as nowhere:
            os.dup2(nowhere.fileno(), sys.stdout.fileno())
        return 141  # as a shell reports a command ended by SIGPIPE
    except OSError as error:  # a full disk, a permission: nothing was written
        print(f"dicomreg {args.command}: error: {error}", file=sys.stderr)
        return 1
    finally:
        if config is not None:
            config.settings.reading_validation_mode = reading_mode


if __name__ == "__main__":
    sys.exit(main())
