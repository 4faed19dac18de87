"""The Register node: a fixed and a moving image into the deformation DicomREGSave takes.

A thin node over :func:`dicomreg.core.registration.pipeline`: its output is what the
DisplacementField node gives (a LoadedDeformation: the grid on the fixed grid, carrying the
fixed image's DICOM, and the pre-deformation matrix), its status the quality report. The
registration runs in ``prepare``, which the editor runs off the GUI thread with progress and
cancel; the result is kept until an input or a setting changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ryven.node_env import NodeInputType, NodeOutputType

from dicomreg.core.errors import DicomRegError
from dicomreg.core.registration import load_settings, register, with_voxels

from .base import DicomNode
from .payloads import DeformationData

__all__ = ["RegisterNode"]


class RegisterNode(DicomNode):
    """Register the moving image to the fixed one (optional masks)."""

    title = "Register"
    init_inputs = [NodeInputType("fixed"), NodeInputType("moving"), NodeInputType("fixedMask"),
                   NodeInputType("movingMask")]
    init_outputs = [NodeOutputType("image"), NodeOutputType("status")]
    status_output = 1
    defaults = {"method": "bspline", "paramsFile": "", "seed": 20260105, "foldAffine": 0}
    image = None  # the grid last registered, for the editor's preview
    progress_line = ""
    _done: tuple[tuple, Any] | None = None

    def _key(self) -> tuple:
        return (*(id(self.payload(i)) for i in range(4)),
                tuple(sorted(self.settings.items())))

    def prepare(self, progress: Callable[[float], bool] | None = None) -> None:
        """Run the registration (the slow part) unless its inputs and settings are those of
        the last one; ``progress`` sees a fraction and may cancel by returning False."""
        fixed, moving = self.payload(0), self.payload(1)
        if fixed is None or moving is None:
            raise DicomRegError("connect the fixed and the moving image")
        if self._done is not None and self._done[0] == self._key():
            return

        def report(step: Any) -> bool:
            self.progress_line = step.describe()
            done = (step.level + min(step.iteration / 50, 1.0)) / max(step.levels, 1)
            return True if progress is None else progress(min(done, 1.0)) is not False

        masks = tuple(None if self.payload(i) is None else with_voxels(self.payload(i))
                      for i in (2, 3))
        paths = [self.resolve(self.settings["paramsFile"])] if self.settings["paramsFile"] \
            else []
        result = register(with_voxels(fixed), with_voxels(moving), self.settings["method"],
                          load_settings(paths, self.settings["method"]),
                          masks if any(m is not None for m in masks) else None,
                          seed=int(self.settings["seed"]), progress=report,
                          fold_affine=bool(int(self.settings["foldAffine"])))
        self._done = (self._key(), result)

    def update_event(self, inp: int = -1) -> None:
        def run() -> None:
            self.prepare()
            assert self._done is not None
            result = self._done[1]
            self.image = result.deformation.image
            self.set_output_val(0, DeformationData(result.deformation))
            self.report("; ".join([result.quality.describe(), *result.quality.warnings]))

        self.guarded(run)
