"""The run sequence: one rule set for ``dicomreg run``, ``dicomreg save``, the DicomREGSave
node and the panel's Save, so that each writes the same REG from the same inputs.

1. **Inherit** from the source ``inputSelector`` selects: the DICOM of the image at input0 or
   input1, the file in ``unresolvedFileName``, or the DICOM tree or volume list at
   ``inputBase``. A selected source that is empty is an error that names it; it is never
   skipped silently. Only a registration with no DICOM source at all (``inherit=False``, as
   ``dicomreg save`` without ``--fixed``, ``--base`` or ``--inherit-file``) skips this step:
   its grid is then input0's own, and its source frame that of the referenced image.
2. **Reference** every instance of the image ``inputConnectorSelector`` names, when it
   carries DICOM; when it carries none, nothing is referenced (a registration within one
   frame of reference).
3. **Re-apply** the values set by hand since the last inheritance (``overrides``): they win
   over inherited ones.
4. **Save**, with ``verify`` and ``progress`` as :meth:`DicomREGSave.save`.

``progress`` is also asked (with 0) before each step: False there cancels the run with
:class:`~dicomreg.core.reg.SaveCancelledError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dicomreg.core.reg import SaveCancelledError, right_handed_grid
from dicomreg.core.regsave.inherit import InheritanceReport

if TYPE_CHECKING:
    from dicomreg.core.regsave.module import DicomREGSave

__all__ = ["RunResult", "run_sequence"]


@dataclass
class RunResult:
    """What a run did.

    Attributes
    ----------
    path
        The REG written; None when the inheritance or the save was refused with
        ``postBadParamErrors`` off (the module's status says why).
    notes
        What the inheritance could not do, for the user.
    warnings
        Warnings about the result (an image of another patient referenced).
    report
        What the inheritance changed; None without one.
    references
        How many instances were referenced.
    """

    path: Path | None
    notes: list[str]
    warnings: list[str]
    report: InheritanceReport | None
    references: int


def _go_on(progress: Callable[[float], bool] | None) -> None:
    if progress is not None and progress(0.0) is False:
        raise SaveCancelledError("the save was cancelled; nothing was written")


def _without_source(module: DicomREGSave) -> None:
    """No DICOM source: the grid is input0's own (its world matrix is the truth about where
    its vectors are), the source frame that of the image referenced."""
    if module.input0 is not None and module.input0.geometry is not None:
        grid, _ = right_handed_grid(module.input0.geometry)
        module.set("imagePositionPatient", grid.origin)
        module.set("imageOrientationPatient", grid.image_orientation_patient)
    referenced = module.referenced_image()
    if referenced is not None and referenced.datasets:
        module.set("sourceFrameOfReferenceUID",
                   str(referenced.datasets[0].get("FrameOfReferenceUID", "")))


def run_sequence(module: DicomREGSave, *, inherit: bool = True,
                 progress: Callable[[float], bool] | None = None,
                 verify: Callable[[Path], None] | None = None) -> RunResult:
    """Inherit, reference, re-apply the values set by hand, save (see the module docstring).

    Raises
    ------
    BadParameterError
        When the selected source is empty or unreadable, or the save is refused (with
        ``postBadParamErrors`` on); nothing is written then.
    SaveCancelledError
        When ``progress`` returned False; nothing is written.
    """
    by_hand = dict(module.overrides)  # an inheritance forgets them; the run re-applies them
    _go_on(progress)
    report = module.inheritDICOMTags() if inherit else None
    if inherit and report is None:  # refused with postBadParamErrors off: the status says why
        return RunResult(path=None, notes=[], warnings=[], report=None, references=0)
    if not inherit:
        _without_source(module)
    _go_on(progress)
    warnings, references = [], 0
    referenced = module.referenced_image()
    if referenced is not None and referenced.datasets:
        warning = module.updateReferencedImageSequenceUIDInheritance()
        warnings += [warning] if warning else []
        references = len(referenced.datasets)
    module.set_many(by_hand, by_hand=True)
    _go_on(progress)
    path = module.save(verify=verify, progress=progress)
    return RunResult(path=path, notes=list(report.notes) if report else [], warnings=warnings,
                     report=report, references=references)
