"""``dicomreg save``: a displacement field and its DICOM context into a REG file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

from dicomreg.core.atomic import DICOM_FILE, check_output_path, refuse_overwriting_inputs
from dicomreg.core.deformation import check_convention, read_displacement_field, to_reg_convention
from dicomreg.core.deformation.transform_file import TRANSFORM_SUFFIXES, read_transform_file
from dicomreg.core.dicom import read_dicom_headers, read_volume, scan_volumes, series_slices_beside
from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import field_by_name
from dicomreg.core.modifiers import load_chain
from dicomreg.core.reg import (
    DciodvfyResult,
    dciodvfy_available,
    print_dciodvfy,
    right_handed_grid,
    run_dciodvfy,
)
from dicomreg.core.regsave.inherit import InheritanceReport
from dicomreg.core.regsave.module import DicomREGSave

__all__ = ["SaveRequest", "SaveResult", "save", "save_registration"]

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


@dataclass
class SaveRequest:
    """What one save needs; paths absolute, or relative to ``base_dir``."""

    field: str
    output: str
    fixed: str | None = None
    fixed_volume: int | None = None
    moving: str | None = None
    moving_volume: int | None = None
    inherit_file: str | None = None
    base: str | None = None
    base_volume: int = 0
    assignments: dict[str, str] = dataclass_field(default_factory=dict)
    modifiers: str | None = None
    dciodvfy: bool = True
    base_dir: str | None = None
    components: str = "lps"
    units: str = "mm"
    kind: str = "displacement"
    direction: str = "pull"


@dataclass
class SaveResult:
    """What one save did."""

    path: Path
    module: DicomREGSave
    references: int
    notes: list[str]
    report: InheritanceReport | None
    dciodvfy: DciodvfyResult | None


def save_registration(request: SaveRequest) -> SaveResult:
    """Read the inputs, inherit, reference, apply the modifiers, check and write one REG.

    Raises
    ------
    DicomRegError
        For anything wrong with the inputs or the result; nothing is written then.
    """
    base = Path(request.base_dir) if request.base_dir else Path.cwd()

    def resolve(path: str) -> Path:
        return base / Path(path).expanduser()

    # A bad convention is refused before any file is read (here for every caller: the batch
    # manifest has no argparse choices in front of it).
    check_convention(components=request.components, units=request.units, kind=request.kind,
                     direction=request.direction)
    # So is an output that is one of the inputs (the module checks the files it knows of
    # again, for flows; these are the ones only we know of).
    refuse_overwriting_inputs(resolve(request.output), {
        "the field file": request.field and resolve(request.field),
        "the modifiers file": request.modifiers and resolve(request.modifiers),
        "--fixed": request.fixed and resolve(request.fixed),
        "--moving": request.moving and resolve(request.moving),
        "--base": request.base and resolve(request.base),
        "--inherit-file": request.inherit_file and resolve(request.inherit_file)})
    check_output_path(resolve(request.output), DICOM_FILE)
    module = DicomREGSave(base_dir=base)
    fixed = (read_volume(resolve(request.fixed), request.fixed_volume, "--fixed-volume")
             if request.fixed else None)
    moving = (read_volume(resolve(request.moving), request.moving_volume, "--moving-volume")
              if request.moving else None)
    notes: list[str] = []
    for option, given in (("--fixed", request.fixed), ("--moving", request.moving)):
        slices = series_slices_beside(resolve(given)) if given else 0
        if slices > 1:
            notes.append(f"warning: {option} names one slice of a series of {slices} in "
                         f"{resolve(given).parent}; only that slice is used"
                         + (" and referenced" if option == "--moving" else "")
                         + " (give the folder to use the whole series)")
    fixed_grid = fixed.geometry if fixed is not None else None
    field_path = resolve(request.field)
    convention = {"components": request.components, "units": request.units,
                  "kind": request.kind, "direction": request.direction}
    if field_path.suffix.lower() in TRANSFORM_SUFFIXES:
        if convention != {"components": "lps", "units": "mm", "kind": "displacement",
                          "direction": "pull"}:
            raise DicomRegError("--components, --units, --kind and --direction describe "
                                "field images; an ITK transform file is in ITK's convention")
        transform = read_transform_file(field_path, grid=fixed_grid)
        module.input0 = transform.image
        module.set_many({"preDeformationMatrix": transform.pre_matrix.ravel(),
                         "preDeformationMatrixType": transform.pre_matrix_type,
                         "postDeformationMatrix": transform.post_matrix.ravel(),
                         "postDeformationMatrixType": transform.post_matrix_type})
        notes += transform.notes
    else:
        field_image, converted = to_reg_convention(read_displacement_field(field_path),
                                                   target=fixed_grid, **convention)
        module.input0 = field_image
        notes += converted
    assert module.input0.geometry is not None
    if fixed_grid is not None and not module.input0.geometry.overlaps(fixed_grid):
        notes.append("warning: the field's grid does not overlap the fixed image at all; "
                     "check the field's origin and the fixed series")
    if fixed is not None:
        # The field lives on the fixed image's grid: it carries the fixed image's DICOM.
        module.input0.datasets = fixed.datasets
    module.input1 = moving
    if request.inherit_file:
        module.set_many({"inputSelector": "File",
                         "unresolvedFileName": str(resolve(request.inherit_file))})
    if request.base:
        _connect_base(module, str(resolve(request.base)))
        module.set_many({"inputSelector": "BaseConnector",
                         "inputVolumeIndex": request.base_volume})
    # The field file carries its own world matrix, the truth about where its vectors are:
    # the grid is taken from it unless the user asks for the DICOM source's geometry.
    module.set("worldMatrixInheritanceSource", "IMAGE_INPUT")
    # Options that steer inheritance apply first; every --set applies again afterwards, so
    # that the user's value wins over an inherited one.
    assignments = request.assignments
    module.set_many(assignments)
    report = None
    if moving is None and "sourceFrameOfReferenceUIDInheritanceSource" not in assignments:
        module.set("sourceFrameOfReferenceUIDInheritanceSource", "DICOM_INPUT")
        notes.append("no --moving: the source frame of reference is the inherited one "
                     "(a registration within one frame)")
    if _has_inheritance_source(module):
        report = module.inheritDICOMTags()
        notes += report.notes
    else:
        assert module.input0.geometry is not None
        grid, _ = right_handed_grid(module.input0.geometry)
        module.set("imagePositionPatient", grid.origin)
        module.set("imageOrientationPatient", grid.image_orientation_patient)
        if moving is not None:
            module.set("sourceFrameOfReferenceUID",
                       str(moving.datasets[0].get("FrameOfReferenceUID", "")))
    if moving is not None:
        warning = module.updateReferencedImageSequenceUIDInheritance()
        notes += [warning] if warning else []
    module.set_many(assignments)
    if request.modifiers:
        module.inputModifierList = load_chain(resolve(request.modifiers))
    module.set("fileName", str(resolve(request.output)))
    gate = _DciodvfyGate() if request.dciodvfy and dciodvfy_available() else None
    path = module.save(verify=gate)
    if path is None:  # postBadParamErrors off: the refusal is in the status
        raise DicomRegError(module.status)
    return SaveResult(path=path, module=module,
                      references=len(moving.datasets) if moving else 0, notes=notes,
                      report=report, dciodvfy=gate.result if gate else None)


def save(args: argparse.Namespace) -> int:
    """``dicomreg save``: one REG file, and what was written and checked."""
    result = save_registration(SaveRequest(
        field=args.field, output=args.output, fixed=args.fixed, fixed_volume=args.fixed_volume,
        moving=args.moving, moving_volume=args.moving_volume, inherit_file=args.inherit_file,
        base=args.base, base_volume=args.base_volume, assignments=_assignments(args.set),
        modifiers=args.modifiers, dciodvfy=not args.no_dciodvfy, components=args.components,
        units=args.units, kind=args.kind, direction=args.direction))
    module, path = result.module, result.path
    if args.verbose and result.report is not None:
        print(f"inherited from {module.get('inputSelector')}:\n{result.report}")
    voxels = module.input0.voxels
    assert voxels is not None and module.input0.geometry is not None
    size = "x".join(str(n) for n in voxels.shape[2::-1][:3])
    spacing = "x".join(f"{s:g}" for s in module.input0.geometry.spacing)
    print(f"wrote {path} ({path.stat().st_size} bytes): Deformable Spatial Registration, "
          f"{size} grid of {spacing} mm")
    print(f"  registered frame {module.get('frameOfReferenceUID')}"
          + (f" (fixed: {args.fixed})" if args.fixed else ""))
    print(f"  source frame     {module.get('sourceFrameOfReferenceUID')}"
          + (f" (moving: {args.moving}, {result.references} instance(s) referenced)"
             if args.moving else ""))
    print(f"  study {module.get('studyInstanceUID')}, series {module.get('seriesInstanceUID')}")
    for note in result.notes:
        print(f"  note: {note}")
    print(_CHECKED + ": no problem")
    if result.dciodvfy is not None:
        print_dciodvfy(result.dciodvfy)
    elif not args.no_dciodvfy:
        print("dciodvfy: not on PATH (Debian package dicom3tools); its check was skipped")
    return 0
