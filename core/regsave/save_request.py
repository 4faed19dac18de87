"""``dicomreg save``: a displacement field and its DICOM context into a REG file."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import Path

from dicomreg.core.deformation import FieldConvention, LoadedDeformation, load_deformation
from dicomreg.core.dicom import read_dicom_headers, read_volume, scan_volumes, series_slices_beside
from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import insensitivity_notes
from dicomreg.core.image import Image
from dicomreg.core.input import field_size_limit, resolve_path
from dicomreg.core.modifiers import load_chain
from dicomreg.core.output import DICOM_FILE, check_output_path, refuse_overwriting_inputs
from dicomreg.core.reg import DciodvfyResult, dciodvfy_available, run_dciodvfy
from dicomreg.core.regsave.inherit import InheritanceReport
from dicomreg.core.regsave.module import DicomREGSave

__all__ = ["SaveRequest", "SaveResult", "save_registration"]


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
    # A deformation already loaded (a registration's result) instead of ``field``'s file.
    deformation: LoadedDeformation | None = None
    progress: Callable[[float], bool] | None = None  # sees the fraction done; False cancels
    # How to reach a peer named by --fixed/--moving (AET@HOST:PORT/STUDY/SERIES or a
    # DICOMweb series URL); NetOptions' defaults when None.
    net: object | None = None
    # This save's field size limit (bytes, or a size such as 500MB); the process's when None.
    max_field_size: int | str | None = None


@dataclass
class SaveResult:
    """What one save did."""

    path: Path
    module: DicomREGSave
    references: int
    notes: list[str]
    report: InheritanceReport | None
    dciodvfy: DciodvfyResult | None


def _read_series(request: SaveRequest, resolve: Callable[[str], Path]
                 ) -> tuple[Image | None, Image | None, list[str]]:
    """The fixed and moving series, and a warning for each given as one slice of several."""
    notes: list[str] = []  # the non-regular files a scan skipped, then the single slices
    fixed = (read_volume(resolve(request.fixed), request.fixed_volume, "--fixed-volume", notes)
             if request.fixed else None)
    moving = (read_volume(resolve(request.moving), request.moving_volume, "--moving-volume",
                          notes) if request.moving else None)
    for option, given in (("--fixed", request.fixed), ("--moving", request.moving)):
        slices = series_slices_beside(resolve(given)) if given else 0
        if slices > 1:
            notes.append(f"warning: {option} names one slice of a series of {slices} in "
                         f"{resolve(given).parent}; only that slice is used"
                         + (" and referenced" if option == "--moving" else "")
                         + " (give the folder to use the whole series)")
    return fixed, moving, notes


def _set_options(module: DicomREGSave, request: SaveRequest, resolve: Callable[[str], Path],
                 notes: list[str]) -> None:
    """The options as the module's fields: what to inherit from, the values set by hand,
    the modifiers and the output."""
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
    if "fileName" in request.assignments:
        raise DicomRegError("--set fileName conflicts with the output option (-o, a manifest's "
                            "output), which names the file to write; give only the output")
    # Every --set is a value set by hand: it steers the inheritance, and the run applies it
    # again afterwards, so that the user's value wins over an inherited one.
    module.set_many(request.assignments, by_hand=True)
    notes += insensitivity_notes(list(request.assignments), module.values())
    if module.input1 is None \
            and "sourceFrameOfReferenceUIDInheritanceSource" not in request.assignments:
        module.set("sourceFrameOfReferenceUIDInheritanceSource", "DICOM_INPUT")
        notes.append("no --moving: the source frame of reference is the inherited one "
                     "(a registration within one frame)")
    if request.modifiers:
        module.inputModifierList = load_chain(resolve(request.modifiers))
    module.set("fileName", str(_output_file(module, resolve, request.output)), by_hand=True)


def _output_file(module: DicomREGSave, resolve: Callable[[str], Path], output: str) -> Path:
    """The file ``output`` names; an existing directory gets ``REG_<SOPInstanceUID>.dcm`` in
    it (plastimatch's ``--output-dicom DIR`` habit), a missing one is refused."""
    path = resolve(output)
    if path.is_dir():
        return path / f"REG_{module.next_sop_instance_uid}.dcm"
    if output.rstrip().endswith(("/", os.sep)):
        raise DicomRegError(f"-o '{output}' names a directory that does not exist; expected an "
                            "existing directory (the REG is written there as "
                            "REG_<SOPInstanceUID>.dcm) or a file name")
    return path


def _fetched_sources(request: SaveRequest) -> SaveRequest:
    """A PACS series in --fixed/--moving becomes its folder in the cache, fetched first."""
    from dicomreg.core.net import is_remote

    remote = {name: getattr(request, name) for name in ("fixed", "moving")
              if is_remote(getattr(request, name))}
    if not remote:
        return request
    # Only now: the fetching modules import the DIMSE and DICOMweb clients' modules.
    from dicomreg.core.net import fetched_series

    return replace(request, **{name: str(fetched_series(address, request.net))
                               for name, address in remote.items()})


def save_registration(request: SaveRequest) -> SaveResult:
    """Read the inputs, express the options as the module's fields and connectors, and run
    the module's run sequence (inherit, reference, modifiers, check, write) for one REG.

    Raises
    ------
    DicomRegError
        For anything wrong with the inputs or the result; nothing is written then.
    """
    with field_size_limit(request.max_field_size, "max_field_size"):
        return _save(request)


def _save(request: SaveRequest) -> SaveResult:
    base = Path(request.base_dir) if request.base_dir else Path.cwd()
    request = _fetched_sources(request)

    def resolve(path: str) -> Path:
        return resolve_path(path, base)

    # A bad convention is refused before any file is read (here for every caller: the batch
    # manifest has no argparse choices in front of it).
    convention = FieldConvention(components=request.components, units=request.units,
                                 kind=request.kind, direction=request.direction)
    # So is an output that is one of the inputs (the module checks the files it knows of
    # again, for flows; these are the ones only we know of).
    refuse_overwriting_inputs(resolve(request.output), {
        "the field file": request.field and resolve(request.field),
        "the modifiers file": request.modifiers and resolve(request.modifiers),
        "--fixed": request.fixed and resolve(request.fixed),
        "--moving": request.moving and resolve(request.moving),
        "--base": request.base and resolve(request.base),
        "--inherit-file": request.inherit_file and resolve(request.inherit_file)})
    if not resolve(request.output).is_dir():  # a folder gets REG_<SOPInstanceUID>.dcm in it
        check_output_path(resolve(request.output), DICOM_FILE)
    module = DicomREGSave(base_dir=base)
    fixed, moving, notes = _read_series(request, resolve)
    # Streamed: a compressed field is inflated as the REG is written, which reads it once.
    loaded = request.deformation or load_deformation(
        resolve(request.field), convention, fixed.geometry if fixed is not None else None,
        streamed=True)
    notes += loaded.notes
    if fixed is not None:
        # The field lives on the fixed image's grid: it carries the fixed image's DICOM.
        loaded.image.datasets = fixed.datasets
    module.use_deformation(loaded)
    module.input1 = moving
    _set_options(module, request, resolve, notes)
    gate = _DciodvfyGate() if request.dciodvfy and dciodvfy_available() else None
    # Without any DICOM source (no --fixed, --base, --inherit-file or inputSelector) there is
    # nothing to inherit: the run takes the grid from the field alone.
    has_source = (fixed is not None or bool(request.inherit_file or request.base)
                  or "inputSelector" in request.assignments)
    run = module.run(inherit=has_source, verify=gate, progress=request.progress)
    if run.path is None:  # postBadParamErrors off: the refusal is in the status
        raise DicomRegError(module.status)
    return SaveResult(path=run.path, module=module, references=run.references,
                      notes=notes + run.notes + run.warnings, report=run.report,
                      dciodvfy=gate.result if gate else None)
