"""``dicomreg save``: a displacement field and its DICOM context into a REG file."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from .dciodvfy import DciodvfyResult, dciodvfy_available, print_dciodvfy, run_dciodvfy
from .deformable_registration import right_handed_grid
from .dicom_series import read_dicom_headers
from .dicomregsave import DicomREGSave
from .displacement_field import read_displacement_field
from .errors import DicomRegError
from .fields import field_by_name
from .modifiers import load_chain
from .volume_list import read_volume, scan_volumes

__all__ = ["save"]

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


def save(args: argparse.Namespace) -> int:
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
        print_dciodvfy(gate.result)
    elif not args.no_dciodvfy:
        print("dciodvfy: not on PATH (Debian package dicom3tools); its check was skipped")
    return 0


