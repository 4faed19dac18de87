"""A picture of a deformation: magnitude or Jacobian determinant, slice by slice, with arrows.

For the field at ``input0`` or a loaded REG: a slice (axial, coronal or sagittal, with a
slider) of the displacement magnitude in mm, or of the Jacobian determinant, where folding
(determinant 0 or less) is highlighted and counted; an arrow overlay of the in-plane
components; a colour bar with its units; the fixed image, when given, as a grey underlay
(sampled at the field's voxel centres, so that a field on another grid still lines up).
Under the mouse, a readout gives the position in mm (patient coordinates, LPS), the voxel
(from 1), the vector and the Jacobian determinant there. The determinant of the whole field
and the folding count are computed off the GUI thread.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QLinearGradient, QPainter
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from dicomreg.core.deformation import Folding, jacobian_determinant, magnitude
from dicomreg.core.image import Image

from .slice_canvas import (
    PLANES,
    SliceCanvas,
    add_readout_lines,
    dimensions_text,
    grey,
    plane_of,
    plane_spacing,
    rgb_image,
    sample_plane,
    voxel_of,
    window_of,
)
from .tasks import BackgroundTask

__all__ = ["DeformationPreview"]

# Viridis at five stops, interpolated: perceptually even for magnitudes.
_VIRIDIS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98],
                     [253, 231, 37]], dtype=float)
# Blue - white - red around a determinant of 1 (no volume change).
_DIVERGING = np.array([[33, 102, 172], [247, 247, 247], [178, 24, 43]], dtype=float)
_FOLDED = np.array([255, 0, 255], dtype=np.uint8)  # magenta: the mapping folds here
_AXES = PLANES
_UNDERLAY_WEIGHT = 0.45  # the fixed image's share of a pixel under the colours


def _colours(values: np.ndarray, low: float, high: float, stops: np.ndarray) -> np.ndarray:
    scaled = np.clip((values - low) / (high - low if high > low else 1.0), 0, 1)
    scaled = np.nan_to_num(scaled, nan=0.0) * (len(stops) - 1)
    below = np.clip(np.floor(scaled).astype(int), 0, len(stops) - 2)
    part = (scaled - below)[..., None]
    return (stops[below] * (1 - part) + stops[below + 1] * part).astype(np.uint8)


class _ColourBar(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setFixedWidth(86)
        self.stops, self.low, self.high, self.units = _VIRIDIS, 0.0, 1.0, "mm"

    def show_range(self, stops: np.ndarray, low: float, high: float, units: str) -> None:
        self.stops, self.low, self.high, self.units = stops, low, high, units
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        bar = QRectF(6, 18, 18, self.height() - 36)
        gradient = QLinearGradient(bar.bottomLeft(), bar.topLeft())
        for index, colour in enumerate(self.stops):
            gradient.setColorAt(index / (len(self.stops) - 1), QColor(*map(int, colour)))
        painter.fillRect(bar, gradient)
        painter.drawText(QPointF(28, 26), f"{self.high:.3g}")
        painter.drawText(QPointF(28, bar.bottom()), f"{self.low:.3g}")
        painter.drawText(QPointF(4, 12), self.units)
        painter.end()


class DeformationPreview(QWidget):
    """The preview of a displacement field (an Image of (Z, Y, X, 3) vectors)."""

    def __init__(self, image: Image | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: Image | None = None
        self.underlay: Image | None = None
        self._window = (0.0, 1.0)
        self.determinant: np.ndarray | None = None
        self.folding: Folding | None = None
        self.task: BackgroundTask | None = None
        layout = QVBoxLayout(self)
        controls = QHBoxLayout()
        self.view = QComboBox()
        self.view.addItems(["Magnitude", "Jacobian determinant"])
        self.axis = QComboBox()
        self.axis.addItems(list(_AXES))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slice_label = QLabel()
        self.arrows = QCheckBox("Arrows")
        self.arrows.setChecked(True)
        self.show_underlay = QCheckBox("Fixed image")
        self.show_underlay.setChecked(True)
        self.show_underlay.setEnabled(False)
        for widget in (self.view, self.axis, self.slider, self.slice_label, self.arrows,
                       self.show_underlay):
            controls.addWidget(widget)
        layout.addLayout(controls)
        picture = QHBoxLayout()
        self.canvas = SliceCanvas()
        self.colour_bar = _ColourBar()
        picture.addWidget(self.canvas, 1)
        picture.addWidget(self.colour_bar)
        layout.addLayout(picture, 1)
        self.readout, self.info = add_readout_lines(layout, "no field")
        self.canvas.hovered.connect(self.read_out)
        self.show_underlay.toggled.connect(self.render)
        self.view.currentIndexChanged.connect(self.render)
        self.axis.currentIndexChanged.connect(self._axis_changed)
        self.slider.valueChanged.connect(self.render)
        self.arrows.toggled.connect(self.render)
        self.set_image(image)

    # --- the field --------------------------------------------------------------------------

    def set_image(self, image: Image | None) -> None:
        """Show a field; its determinant and folding are computed in the background."""
        self.image, self.determinant, self.folding = image, None, None
        if image is None or not image.is_vector_field or image.geometry is None:
            self.image = None
            self.info.setText("no field: connect a displacement field (3 components per "
                              "voxel)")
            self.canvas.image = None
            self.canvas.update()
            return
        self._axis_changed()
        self.task = BackgroundTask(self._statistics, self)
        self.task.done.connect(self._statistics_done)
        self.task.failed.connect(lambda message: self.info.setText(message))
        self.task.start()

    def set_underlay(self, fixed: Image | None) -> None:
        """Show ``fixed`` (a scalar image with voxels and geometry) in grey under the colours;
        None removes it."""
        usable = fixed is not None and fixed.voxels is not None and fixed.voxels.ndim == 3 \
            and fixed.geometry is not None
        self.underlay = fixed if usable else None
        self.show_underlay.setEnabled(usable)
        if usable:
            self._window = window_of(fixed.voxels)
        self.render()

    def _statistics(self, progress: object) -> tuple[np.ndarray, Folding]:
        image = self.image
        assert image is not None and image.voxels is not None and image.geometry is not None
        vectors, geometry = image.voxels, image.geometry
        determinant = np.empty(vectors.shape[:3], dtype=np.float32)
        slab = 16
        for first in range(0, vectors.shape[0], slab):
            determinant[first : first + slab] = jacobian_determinant(vectors, geometry, first,
                                                                     first + slab)
            if not progress(min(1.0, (first + slab) / vectors.shape[0])):
                break
        defined = determinant[np.isfinite(determinant)]
        folded = int(np.count_nonzero(defined <= 0))
        folding = Folding(folded, int(defined.size),
                          float(defined.min()) if defined.size else float("nan"),
                          float(defined.max()) if defined.size else float("nan"))
        return determinant, folding

    def _statistics_done(self, result: tuple[np.ndarray, Folding]) -> None:
        self.determinant, self.folding = result
        self.render()

    def wait_for_statistics(self, seconds: float = 60) -> bool:
        """Wait for the background computation (tests, scripts); whether it ended."""
        ended = self.task is None or self.task.wait(seconds)
        from qtpy.QtWidgets import QApplication

        QApplication.processEvents()
        return ended

    # --- the slice --------------------------------------------------------------------------

    def _axis_changed(self, *_args: object) -> None:
        if self.image is None or self.image.voxels is None:
            return
        depth = self.image.voxels.shape[_AXES[self.axis.currentText()]]
        self.slider.blockSignals(True)
        self.slider.setRange(0, depth - 1)
        self.slider.setValue(depth // 2)
        self.slider.blockSignals(False)
        self.render()

    def _plane(self, volume: np.ndarray) -> np.ndarray:
        """The current slice of a (Z, Y, X, ...) volume, rows top to bottom as shown."""
        return plane_of(volume, _AXES[self.axis.currentText()], self.slider.value())

    def slice_values(self) -> np.ndarray:
        """What the picture shows: magnitude (mm) or determinant, for the current slice."""
        assert self.image is not None and self.image.voxels is not None
        if self.view.currentText() == "Magnitude":
            return magnitude(self._plane(self.image.voxels))
        if self.determinant is not None:
            return self._plane(self.determinant)
        index = self.slider.value()
        if _AXES[self.axis.currentText()] == 0:  # axial: one slab suffices meanwhile
            return jacobian_determinant(self.image.voxels, self.image.geometry, index,
                                        index + 1)[0]
        return np.full(self._plane(self.image.voxels).shape[:2], np.nan)

    def _largest_magnitude(self, values: np.ndarray) -> float:
        """The colour scale's top: the whole field's largest |v| (computed once per field;
        the slice's own for a field too large to scan on the GUI thread)."""
        assert self.image is not None and self.image.voxels is not None
        if self.image.voxels.size >= 50_000_000:
            return float(np.nanmax(values))
        if getattr(self, "_largest", (None, 0.0))[0] is not self.image:
            self._largest = (self.image, float(np.nanmax(magnitude(self.image.voxels))))
        return self._largest[1]

    def render(self, *_args: object) -> None:
        """Draw the current slice, the arrows, the colour bar and the numbers."""
        if self.image is None or self.image.voxels is None or self.image.geometry is None:
            return
        axis = _AXES[self.axis.currentText()]
        values = self.slice_values()
        if self.view.currentText() == "Magnitude":
            full = self._largest_magnitude(values)
            rgb = _colours(values, 0.0, full, _VIRIDIS)
            self.colour_bar.show_range(_VIRIDIS, 0.0, full, "mm")
            text = f"|v|: max {full:.3g} mm; this slice {np.nanmin(values):.3g} to " \
                   f"{np.nanmax(values):.3g} mm"
            self.canvas.arrow_colour = QColor(255, 255, 255)
        else:
            # Symmetric around 1 (no change), as wide as the field's determinant reaches.
            reach = np.nanmax(np.abs(values - 1.0)) if np.isfinite(values).any() else 0.0
            if self.folding is not None and np.isfinite(self.folding.minimum):
                reach = max(abs(self.folding.minimum - 1.0), abs(self.folding.maximum - 1.0))
            half = float(min(max(reach, 0.05), 1.0))
            rgb = _colours(values, 1.0 - half, 1.0 + half, _DIVERGING)
            folded_here = np.nan_to_num(values, nan=1.0) <= 0
            rgb[folded_here] = _FOLDED
            self.colour_bar.show_range(_DIVERGING, 1.0 - half, 1.0 + half, "det")
            self.canvas.arrow_colour = QColor(40, 40, 40)
            text = f"folding on this slice: {int(folded_here.sum())} voxel(s) (magenta)"
        if self.folding is not None:
            f = self.folding
            text += (f"; whole field: {f.count} folding voxel(s) of {f.voxels} "
                     f"({100 * f.fraction:.2g} %), determinant {f.minimum:.3g} to "
                     f"{f.maximum:.3g}")
        else:
            text += "; whole field: computing..."
        self.info.setText(f"{dimensions_text(self.image.geometry)} vectors; {text}")
        self.canvas.image = rgb_image(self._over_underlay(rgb, axis))
        in_plane = plane_spacing(self.image.geometry, axis)
        self.canvas.aspect = in_plane[1] / in_plane[0]
        self.canvas.pixel_mm = in_plane[0]
        components = {0: (0, 1), 1: (0, 2), 2: (1, 2)}[axis]
        if self.arrows.isChecked():
            plane = self._plane(self.image.voxels)
            right, up = plane[..., components[0]], plane[..., components[1]]
            # Axial: up on screen is -y (anterior); coronal and sagittal: +z (superior).
            self.canvas.arrows = np.stack([right, -up if axis == 0 else up], axis=-1)
        else:
            self.canvas.arrows = None
        # Numbered from 1, as a person counts them: "slice 1 of 12" is the first.
        self.slice_label.setText(f"slice {self.slider.value() + 1} of "
                                 f"{self.slider.maximum() + 1}")
        self.canvas.update()

    def _over_underlay(self, rgb: np.ndarray, axis: int) -> np.ndarray:
        """The colours mixed over the fixed image's grey, where it has values."""
        if self.underlay is None or not self.show_underlay.isChecked():
            return rgb
        assert self.image is not None and self.image.geometry is not None
        values = sample_plane(self.underlay.voxels, self.underlay.geometry,
                              self.image.geometry, axis, self.slider.value())
        shade = grey(values, *self._window)[..., None].astype(np.float32)
        mixed = (1 - _UNDERLAY_WEIGHT) * rgb + _UNDERLAY_WEIGHT * shade
        return np.where(np.isfinite(values)[..., None], np.rint(mixed), rgb).astype(np.uint8)

    # --- the readout ------------------------------------------------------------------------

    def read_out(self, row: int, column: int) -> None:
        """Show the position (mm, LPS), voxel, vector and determinant at a slice pixel."""
        if self.image is None or self.image.voxels is None or self.image.geometry is None:
            return
        vectors, geometry = self.image.voxels, self.image.geometry
        i, j, k = voxel_of(vectors.shape, _AXES[self.axis.currentText()],
                           self.slider.value(), row, column)
        point = geometry.index_to_point([i, j, k])
        vector = np.asarray(vectors[k, j, i], dtype=np.float64)
        determinant = (self.determinant[k, j, i] if self.determinant is not None else
                       jacobian_determinant(vectors, geometry, k, k + 1)[0, j, i])
        self.readout.setText(
            "({:.2f}, {:.2f}, {:.2f}) mm; voxel ({}, {}, {}) of {}; vector ({:.3f}, {:.3f}, "
            "{:.3f}) mm; Jacobian {:.4f}".format(*point, i + 1, j + 1, k + 1,
                                                 dimensions_text(geometry), *vector,
                                                 float(determinant)))
