"""Nodes that show whether a registration is right, before it is saved.

- **Warp**: the moving image resampled through a deformation (a field, the Register node's
  result, or a REG file's grid from RegLoad) onto the fixed grid, by the standard's equation
  (:func:`dicomreg.core.registration.warp_moving`, as ``dicomreg warp``);
- **FusedView**: holds the fixed image and the warped one for the editor's fused view
  (checkerboard and blend, in :mod:`dicomreg.widgets.fused_view`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ryven.node_env import NodeInputType, NodeOutputType

from dicomreg.core.errors import DicomRegError
from dicomreg.core.registration import warp_moving, with_voxels

from .base import DicomNode
from .payloads import ImageData

__all__ = ["FusedViewNode", "WarpNode"]



def _size(image: Any) -> str:
    """X x Y x Z voxels, as the command line prints a grid."""
    return "x".join(str(n) for n in image.geometry.size)


class WarpNode(DicomNode):
    """The moving image warped onto the fixed grid (``dicomreg warp`` in a flow)."""

    title = "Warp"
    init_inputs = [NodeInputType("fixed"), NodeInputType("moving"),
                   NodeInputType("deformation")]
    init_outputs = [NodeOutputType("image"), NodeOutputType("status")]
    status_output = 1
    defaults = {"undefinedValue": -1024.0}
    image = None  # the warped image last made, for a view
    _done: tuple[tuple, Any] | None = None

    def _key(self) -> tuple:
        return (*(id(self.payload(i)) for i in range(3)), self.settings["undefinedValue"])

    def prepare(self, progress: Callable[[float], bool] | None = None) -> None:
        """Warp (the slow part) unless the inputs and setting are those of the last warp."""
        moving, deformation = self.payload(1), self.payload(2)
        if moving is None or deformation is None:
            raise DicomRegError("connect the moving image and a deformation (a field, "
                                "Register's result or RegLoad's grid)")
        if self._done is None or self._done[0] != self._key():
            self._done = (self._key(), warp_moving(
                deformation, moving, self.payload(0),
                float(self.settings["undefinedValue"])))

    def update_event(self, inp: int = -1) -> None:
        def run() -> None:
            self.prepare()
            assert self._done is not None
            warped = self._done[1]
            self.image = warped.image
            self.set_output_val(0, ImageData(warped.image))
            self.report(f"{_size(warped.image)} warped; {warped.coverage:.0%} of its points "
                        "map inside the moving image")

        self.guarded(run)


class FusedViewNode(DicomNode):
    """The fixed image and the warped moving image, for the fused view."""

    title = "FusedView"
    init_inputs = [NodeInputType("fixed"), NodeInputType("warped")]
    init_outputs = [NodeOutputType("status")]
    status_output = 0
    fixed = None  # the images last given, with their voxels, for the view
    warped = None

    def update_event(self, inp: int = -1) -> None:
        def show() -> None:
            fixed, warped = self.payload(0), self.payload(1)
            if fixed is None or warped is None:
                raise DicomRegError("connect the fixed image and Warp's image")
            self.fixed, self.warped = with_voxels(fixed), warped
            if tuple(self.fixed.geometry.size) != tuple(warped.geometry.size):
                raise DicomRegError("warped: not on the fixed grid; connect Warp's fixed input "
                                    "to the fixed image")
            self.report(f"fixed and warped {_size(self.fixed)}")

        self.guarded(show)
