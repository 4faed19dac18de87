"""A slice of a volume on screen: the planes, the picture scaled to its physical aspect, and
the voxel under the mouse.

Shared by the deformation preview and the fused view. A (Z, Y, X, ...) volume is cut in one
of three planes; axial slices show rows top to bottom as stored (anterior at the top for an
LPS grid), coronal and sagittal slices show superior (+z) at the top. The picture is drawn
from the canvas's top-left corner, scaled to fit while keeping each pixel's physical aspect.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QLineF, QPointF, QRectF, Signal
from qtpy.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from qtpy.QtWidgets import QBoxLayout, QLabel, QSizePolicy, QWidget

from dicomreg.core.image import Geometry
from dicomreg.core.itk import release_pages

__all__ = ["PLANES", "SliceCanvas", "add_readout_lines", "dimensions_text", "grey", "plane_of",
           "plane_spacing", "rgb_image", "sample_plane", "voxel_of", "window_of"]

PLANES = {"Axial": 0, "Coronal": 1, "Sagittal": 2}  # the array axis held fixed: z, y, x


def plane_of(volume: np.ndarray, axis: int, index: int) -> np.ndarray:
    """Slice ``index`` of a (Z, Y, X, ...) volume across array ``axis``, rows as shown.

    Read one z slab at a time, each slab's pages given back when the volume is memory-mapped
    (:func:`~dicomreg.core.itk.release_pages`): a coronal or sagittal slice touches a
    page of every slab, and would otherwise leave the whole field resident (629 MB for a
    512x512x200 field, measured in the editor).
    """
    if axis == 0:
        plane = np.array(volume[index])
        release_pages(volume, volume[index])
        return plane
    plane = np.empty((volume.shape[0], *np.take(volume[0], 0, axis=axis - 1).shape),
                     dtype=volume.dtype)
    for k in range(volume.shape[0]):
        plane[k] = np.take(volume[k], index, axis=axis - 1)
        release_pages(volume, volume[k])
    return plane[::-1]


def voxel_of(shape: tuple[int, ...], axis: int, index: int, row: int,
             column: int) -> tuple[int, int, int]:
    """The voxel (i, j, k) = (x, y, z) shown at ``row``, ``column`` of a slice of a volume
    of array ``shape`` (Z, Y, X, ...): the inverse of :func:`plane_of`."""
    depth, rows, columns = shape[:3]
    if axis == 0:
        return column, row, index
    if axis == 1:
        return column, index, depth - 1 - row
    return index, column, depth - 1 - row


def plane_spacing(geometry: Geometry, axis: int) -> tuple[float, float]:
    """The physical width and height (mm) of one pixel of a slice across ``axis``."""
    x, y, z = geometry.spacing
    return {0: (x, y), 1: (x, z), 2: (y, z)}[axis]


def dimensions_text(geometry: Geometry) -> str:
    """``X x Y x Z`` voxels, as the command line prints them (not numpy's Z, Y, X)."""
    return "x".join(str(n) for n in geometry.size)


def rgb_image(rgb: np.ndarray) -> QImage:
    """A (rows, columns, 3) uint8 array as a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    rows, columns = rgb.shape[:2]
    return QImage(rgb.data, columns, rows, 3 * columns, QImage.Format.Format_RGB888).copy()


class SliceCanvas(QWidget):
    """The slice as an image scaled to its physical aspect, optionally with arrows over it;
    ``hovered`` gives the (row, column) of the pixel under the mouse."""

    hovered = Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.image: QImage | None = None
        self.aspect = 1.0  # physical height / width of one pixel
        self.arrows: np.ndarray | None = None  # (rows, columns, 2) in mm: (right, up)
        self.arrow_colour = QColor(255, 255, 255)
        self.pixel_mm = 1.0

    def scale(self) -> float:
        """Screen pixels per slice pixel (across)."""
        assert self.image is not None
        width, height = self.image.width(), self.image.height() * self.aspect
        return min(self.width() / width, self.height() / height)

    def pixel_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (row, column) of the slice at widget position (x, y), or None outside it."""
        if self.image is None:
            return None
        scale = self.scale()
        column, row = int(x // scale), int(y // (scale * self.aspect))
        if 0 <= row < self.image.height() and 0 <= column < self.image.width():
            return row, column
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        position = event.position() if hasattr(event, "position") else event.pos()
        pixel = self.pixel_at(position.x(), position.y())
        if pixel is not None:
            self.hovered.emit(*pixel)
        super().mouseMoveEvent(event)

    def paintEvent(self, event: object) -> None:
        if self.image is None:
            return
        painter = QPainter(self)
        scale = self.scale()
        target = QRectF(0, 0, self.image.width() * scale,
                        self.image.height() * self.aspect * scale)
        painter.drawImage(target, self.image)
        painter.setClipRect(target)
        if self.arrows is not None:
            # All arrows in two calls (lines, then their tips): a paint stays cheap enough to
            # follow a slider or a zoom.
            lines, tips = self._arrow_geometry(scale)
            painter.setPen(QPen(self.arrow_colour, 1.2))
            painter.drawLines(lines)
            painter.setPen(QPen(self.arrow_colour, 3.0))
            painter.drawPoints(tips)
        painter.end()

    def _arrow_geometry(self, scale: float) -> tuple[list[QLineF], list[QPointF]]:
        assert self.arrows is not None
        key = (id(self.arrows), scale, self.aspect, self.pixel_mm)
        if getattr(self, "_arrows_drawn", (None,))[0] != key:
            self._arrows_drawn = (key, *self._arrow_lines(scale))
        return self._arrows_drawn[1], self._arrows_drawn[2]

    def _arrow_lines(self, scale: float) -> tuple[list[QLineF], list[QPointF]]:
        assert self.arrows is not None
        rows, columns = self.arrows.shape[:2]
        step = max(1, max(rows, columns) // 24)
        r, c = np.mgrid[step // 2 : rows : step, step // 2 : columns : step]
        d = self.arrows[r, c]
        keep = np.isfinite(d).all(axis=-1)
        x0, y0 = (c[keep] + 0.5) * scale, (r[keep] + 0.5) * scale * self.aspect
        per_mm = scale / self.pixel_mm
        x1, y1 = x0 + d[keep][:, 0] * per_mm, y0 - d[keep][:, 1] * per_mm
        lines = [QLineF(*map(float, v)) for v in zip(x0, y0, x1, y1, strict=True)]
        return lines, [line.p2() for line in lines]


def sample_plane(image_voxels: np.ndarray, image_geometry: Geometry, grid: Geometry,
                 axis: int, index: int) -> np.ndarray:
    """A scalar image's values at the voxel centres of one slice of ``grid`` (nearest
    voxel; NaN outside the image), rows as :func:`plane_of` shows them: an underlay on
    another grid than the slice's (a field on a cropped grid, say)."""
    depth, rows, columns = grid.size[2], grid.size[1], grid.size[0]
    shape = (depth, rows, columns)
    shown = {0: (rows, columns), 1: (depth, columns), 2: (depth, rows)}[axis]
    row, column = np.mgrid[0 : shown[0], 0 : shown[1]]
    i, j, k = voxel_of(shape, axis, index, row, column)
    points = grid.index_to_point(np.stack(np.broadcast_arrays(i, j, k), axis=-1))
    world = image_geometry.world_matrix
    source = np.rint((points - world[:3, 3]) @ np.linalg.inv(world[:3, :3]).T).astype(int)
    inside = np.all((source >= 0) & (source < np.asarray(image_geometry.size)), axis=-1)
    values = np.full(shown, np.nan, dtype=np.float32)
    si, sj, sk = source[inside].T
    values[inside] = image_voxels[sk, sj, si]
    return values


def add_readout_lines(layout: QBoxLayout, info: str) -> tuple[QLabel, QLabel]:
    """The two lines under a slice view, added to ``layout``: the readout under the mouse
    and the view's summary (``info`` until there is one), which wraps."""
    readout = QLabel("move the mouse over the slice for the values there")
    layout.addWidget(readout)
    summary = QLabel(info)
    summary.setWordWrap(True)
    layout.addWidget(summary)
    return readout, summary


def window_of(voxels: np.ndarray) -> tuple[float, float]:
    """A grey window for an image: its 1st to 99th percentile (of every 4th voxel along
    each axis for a large one: a window needs no more, and the scan stays quick)."""
    step = 4 if voxels.size > 4_000_000 else 1
    sample = np.asarray(voxels[::step, ::step, ::step], dtype=np.float32)
    sample = sample[np.isfinite(sample)]
    if not sample.size:
        return 0.0, 1.0
    low, high = np.percentile(sample, [1, 99])
    return float(low), float(high if high > low else low + 1.0)


def grey(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Values as grey levels 0 to 255 (uint8) through the window low..high; NaN black."""
    scaled = np.clip((np.nan_to_num(values, nan=low) - low) / (high - low), 0.0, 1.0)
    return np.rint(scaled * 255).astype(np.uint8)
