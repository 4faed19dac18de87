"""The fixed image fused with the warped moving image: is the registration right?

Two images on one grid (the fixed image, and the moving image warped onto it by the Warp
node or ``dicomreg warp``), shown together slice by slice in any of the three planes:

- **Checkerboard**: squares of ``square`` slice pixels, the fixed image in the square at the
  top-left corner and every other one, the warped image in the rest; edges that run on
  across the squares' borders mean the images agree there;
- **Blend**: ``(1 - alpha) * fixed + alpha * warped``, alpha set by a slider.

Both images are shown in grey through one window (the fixed image's 1st to 99th percentile
unless set), so that equal values look equal. Slices are numbered from 1; dimensions are
given as x by y by z. Under the mouse: the position in mm (LPS), the voxel and both values.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dicomreg.core.image import Image

from . import slice_canvas as canvas

__all__ = ["FusedView"]

MODES = ("Checkerboard", "Blend")


class FusedView(QWidget):
    """A fused view of two scalar images on the same grid (fixed, and warped moving)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fixed: Image | None = None
        self.warped: Image | None = None
        self.window = (0.0, 1.0)
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.mode = QComboBox()
        self.mode.addItems(list(MODES))
        self.plane = QComboBox()
        self.plane.addItems(list(canvas.PLANES))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slice_label = QLabel()
        self.square = QSpinBox()
        self.square.setRange(1, 512)
        self.square.setValue(16)
        self.square.setSuffix(" px squares")
        self.alpha = QSlider(Qt.Orientation.Horizontal)
        self.alpha.setRange(0, 100)
        self.alpha.setValue(50)
        self.alpha_label = QLabel()
        for widget in (self.mode, self.plane, self.slider, self.slice_label, self.square,
                       self.alpha, self.alpha_label):
            controls.addWidget(widget)
        layout.addLayout(controls)
        self.canvas = canvas.SliceCanvas()
        layout.addWidget(self.canvas, 1)
        self.readout, self.info = canvas.add_readout_lines(
            layout, "no images: connect the fixed image and Warp's image")
        self.mode.currentIndexChanged.connect(self.render)
        self.plane.currentIndexChanged.connect(self._plane_changed)
        for control in (self.slider, self.square, self.alpha):
            control.valueChanged.connect(self.render)
        self.canvas.hovered.connect(self.read_out)

    def set_images(self, fixed: Image | None, warped: Image | None) -> None:
        """Show ``fixed`` and ``warped`` (scalar images with voxels, on the same grid)."""
        self.fixed = self.warped = None
        problem = _problem(fixed, warped)
        if problem:
            self.info.setText(problem)
            self.canvas.image = None
            self.canvas.update()
            return
        self.fixed, self.warped = fixed, warped
        self.window = canvas.window_of(fixed.voxels)
        self._plane_changed()

    def set_window(self, low: float, high: float) -> None:
        """The canvas.grey window both images are shown through: low black, high white."""
        self.window = (float(low), float(high) if high > low else float(low) + 1.0)
        self.render()

    def _plane_changed(self, *_args: object) -> None:
        if self.fixed is None:
            return
        depth = self.fixed.voxels.shape[canvas.PLANES[self.plane.currentText()]]
        self.slider.blockSignals(True)
        self.slider.setRange(0, depth - 1)
        self.slider.setValue(depth // 2)
        self.slider.blockSignals(False)
        self.render()

    def shown(self) -> np.ndarray:
        """The canvas.grey levels (rows, columns) of the current slice as the canvas shows them."""
        assert self.fixed is not None and self.warped is not None
        axis, index = canvas.PLANES[self.plane.currentText()], self.slider.value()
        fixed = canvas.grey(canvas.plane_of(self.fixed.voxels, axis, index), *self.window)
        warped = canvas.grey(canvas.plane_of(self.warped.voxels, axis, index), *self.window)
        if self.mode.currentText() == "Blend":
            alpha = self.alpha.value() / 100
            return np.rint((1 - alpha) * fixed + alpha * warped).astype(np.uint8)
        side = self.square.value()
        rows, columns = np.indices(fixed.shape)
        fixed_square = (rows // side + columns // side) % 2 == 0
        return np.where(fixed_square, fixed, warped)

    def render(self, *_args: object) -> None:
        """Draw the current slice and say what is shown."""
        if self.fixed is None or self.warped is None:
            return
        axis = canvas.PLANES[self.plane.currentText()]
        values = self.shown()
        self.canvas.image = canvas.rgb_image(np.repeat(values[..., None], 3, axis=-1))
        width, height = canvas.plane_spacing(self.fixed.geometry, axis)
        self.canvas.aspect, self.canvas.pixel_mm = height / width, width
        blend = self.mode.currentText() == "Blend"
        self.alpha.setEnabled(blend)
        self.square.setEnabled(not blend)
        self.alpha_label.setText(f"warped {self.alpha.value()} %")
        self.slice_label.setText(f"slice {self.slider.value() + 1} of "
                                 f"{self.slider.maximum() + 1}")
        low, high = self.window
        self.info.setText(f"{canvas.dimensions_text(self.fixed.geometry)} voxels, spacing "
                          + " x ".join(f"{s:g}" for s in self.fixed.geometry.spacing)
                          + f" mm; canvas.grey window {low:g} to {high:g}; "
                          + ("blend of the fixed and the warped image" if blend else
                             "checkerboard: the fixed image in the top-left square"))
        self.canvas.update()

    def read_out(self, row: int, column: int) -> None:
        """Show the position (mm, LPS), the voxel and both values at a slice pixel."""
        if self.fixed is None or self.warped is None:
            return
        i, j, k = canvas.voxel_of(self.fixed.voxels.shape, canvas.PLANES[self.plane.currentText()],
                           self.slider.value(), row, column)
        point = self.fixed.geometry.index_to_point([i, j, k])
        self.readout.setText(
            "({:.2f}, {:.2f}, {:.2f}) mm; voxel ({}, {}, {}); fixed {:g}, warped {:g}".format(
                *point, i + 1, j + 1, k + 1, float(self.fixed.voxels[k, j, i]),
                float(self.warped.voxels[k, j, i])))


def _problem(fixed: Image | None, warped: Image | None) -> str | None:
    """Why two images cannot be fused, or None."""
    for name, image in (("fixed", fixed), ("warped", warped)):
        if image is None or image.voxels is None or image.geometry is None:
            return f"no {name} image with voxels: connect the fixed image and Warp's image"
        if image.voxels.ndim != 3:
            return f"the {name} image is not a 3-D scalar image"
    if fixed.voxels.shape != warped.voxels.shape:
        return (f"the warped image ({canvas.dimensions_text(warped.geometry)}) is not on the fixed "
                f"grid ({canvas.dimensions_text(fixed.geometry)}): warp it onto the fixed image")
    return None
