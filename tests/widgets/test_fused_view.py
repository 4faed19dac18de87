"""The fused view and the preview's readout in a real window (Xvfb), as a person uses them:
pixels grabbed from the screen against numpy's rendering of the documented formula, keys
on the slice slider, the mouse over the slice. The expectations are computed here from the
images' geometry, not by the widgets' own code."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import focus
from qtpy.QtCore import Qt

from dicomreg.core import Geometry, Image

SIZE = (48, 40, 5)  # x, y, z
SPACING = (1.0, 1.0, 2.0)
ORIGIN = (-20.0, 10.0, -4.0)
WINDOW = (0.0, 1000.0)


def volumes():
    k, j, i = np.meshgrid(*(np.arange(n) for n in SIZE[::-1]), indexing="ij")
    fixed = (10.0 * i + 100.0 * k).astype(np.float32)  # ramps: every square differs
    warped = (990.0 - 12.0 * j - 50.0 * k).astype(np.float32)
    geometry = Geometry(SIZE, SPACING, ORIGIN)
    return Image(fixed, geometry), Image(warped, geometry)


def expected_grey(value):
    low, high = WINDOW
    return int(np.rint(np.clip((value - low) / (high - low), 0, 1) * 255))


def screen_pixel(canvas, rows, columns, aspect, row, column):
    """Where slice pixel (row, column) is drawn: the picture fills the canvas from its
    top-left corner, scaled to fit, keeping each pixel's physical aspect."""
    scale = min(canvas.width() / columns, canvas.height() / (rows * aspect))
    return int((column + 0.5) * scale), int((row + 0.5) * scale * aspect)


def grabbed(canvas):
    return canvas.grab().toImage()


@pytest.fixture
def fused(qtbot, real_display):
    from dicomreg.widgets.fused_view import FusedView

    view = FusedView()
    qtbot.addWidget(view)
    view.resize(760, 620)
    fixed, warped = volumes()
    view.set_images(fixed, warped)
    view.set_window(*WINDOW)
    view.square.setValue(8)
    focus(qtbot, view.slider)
    return view, fixed.voxels, warped.voxels


def test_checkerboard_shows_each_image_in_its_squares(fused, qtbot):
    view, fixed, warped = fused
    qtbot.waitExposed(view)
    picture = grabbed(view.canvas)
    k = view.slider.value()
    assert k == SIZE[2] // 2 and view.slice_label.text() == f"slice {k + 1} of {SIZE[2]}"
    assert "48x40x5 voxels" in view.info.text()
    seen = set()
    for square_row in range(SIZE[1] // 8):
        for square_column in range(SIZE[0] // 8):
            row, column = square_row * 8 + 4, square_column * 8 + 4
            source = fixed if (square_row + square_column) % 2 == 0 else warped
            seen.add(source is fixed)
            x, y = screen_pixel(view.canvas, SIZE[1], SIZE[0], 1.0, row, column)
            colour = picture.pixelColor(x, y)
            want = expected_grey(source[k, row, column])
            assert abs(colour.red() - want) <= 1 and colour.red() == colour.green() \
                == colour.blue(), (square_row, square_column, colour.red(), want)
    assert seen == {True, False}


def test_blend_and_the_slider_keys_change_what_is_shown(fused, qtbot):
    view, fixed, warped = fused
    view.mode.setCurrentText("Blend")
    view.alpha.setValue(25)
    focus(qtbot, view.slider)
    qtbot.keyClick(view.slider, Qt.Key.Key_Right)
    k = SIZE[2] // 2 + 1
    assert view.slider.value() == k and view.slice_label.text() == f"slice {k + 1} of 5"
    qtbot.wait(50)
    picture = grabbed(view.canvas)
    for row, column in ((3, 5), (20, 30), (37, 44)):
        x, y = screen_pixel(view.canvas, SIZE[1], SIZE[0], 1.0, row, column)
        want = np.rint(0.75 * expected_grey(fixed[k, row, column])
                       + 0.25 * expected_grey(warped[k, row, column]))
        assert abs(picture.pixelColor(x, y).red() - want) <= 1
    view.plane.setCurrentText("Sagittal")
    assert view.slice_label.text() == f"slice {SIZE[0] // 2 + 1} of {SIZE[0]}"
    view.plane.setCurrentText("Coronal")
    assert view.slice_label.text() == f"slice {SIZE[1] // 2 + 1} of {SIZE[1]}"
    # A coronal slice: superior (+z) at the top; pixels 2 mm high for 1 mm wide.
    qtbot.wait(50)
    picture, j = grabbed(view.canvas), SIZE[1] // 2
    x, y = screen_pixel(view.canvas, SIZE[2], SIZE[0], 2.0, 0, 10)  # top row: last slice
    want = np.rint(0.75 * expected_grey(fixed[SIZE[2] - 1, j, 10])
                   + 0.25 * expected_grey(warped[SIZE[2] - 1, j, 10]))
    assert abs(picture.pixelColor(x, y).red() - want) <= 1


NUMBER = r"(-?\d+(?:\.\d+)?)"


def test_preview_readout_gives_position_vector_and_jacobian_under_the_mouse(qtbot,
                                                                             real_display):
    from qtpy.QtCore import QPoint
    from qtpy.QtTest import QTest

    from dicomreg.widgets.deformation_preview import DeformationPreview

    size, spacing, origin = (30, 24, 9), (1.5, 2.0, 2.5), (-22.0, 14.0, 7.5)
    k, j, i = np.meshgrid(*(np.arange(n) for n in size[::-1]), indexing="ij")
    points = np.stack([i, j, k], -1) * np.asarray(spacing) + np.asarray(origin)
    gradient = np.array([[0.02, -0.01, 0.0], [0.03, 0.05, 0.01], [0.0, 0.02, -0.04]])
    vectors = ((points - [1.0, 2.0, 3.0]) @ gradient.T).astype(np.float32)  # linear: u = A p
    fixed_voxels = (points[..., 0] * 10).astype(np.float32)
    geometry = Geometry(size, spacing, origin)
    preview = DeformationPreview(Image(vectors, geometry))
    qtbot.addWidget(preview)
    preview.resize(800, 640)
    preview.set_underlay(Image(fixed_voxels, geometry))
    focus(qtbot, preview.slider)
    assert preview.wait_for_statistics()
    assert preview.show_underlay.isEnabled() and "30x24x9 vectors" in preview.info.text()
    slice_k = preview.slider.value()
    row, column = 7, 19
    x, y = screen_pixel(preview.canvas, size[1], size[0], spacing[1] / spacing[0], row,
                        column)
    QTest.mouseMove(preview.canvas, QPoint(x, y))

    def voxel_shown() -> list[float]:
        return [float(n) for n in re.findall(NUMBER, preview.readout.text())][3:6]

    # The readout of this move, not of an earlier pointer position (the pointer may rest
    # over the canvas when it is shown; under load that readout can still be on screen).
    qtbot.waitUntil(lambda: "mm;" in preview.readout.text()
                    and voxel_shown() == [column + 1, row + 1, slice_k + 1], timeout=3000)
    numbers = [float(n) for n in re.findall(NUMBER, preview.readout.text())]
    position, voxel = numbers[:3], numbers[3:6]
    vector, jacobian = numbers[9:12], numbers[12]
    expected_point = np.asarray(origin) + np.asarray(spacing) * [column, row, slice_k]
    assert np.allclose(position, expected_point, atol=0.005), preview.readout.text()
    assert voxel == [column + 1, row + 1, slice_k + 1]
    assert np.allclose(vector, (expected_point - [1.0, 2.0, 3.0]) @ gradient.T, atol=5e-4)
    assert abs(jacobian - np.linalg.det(np.eye(3) + gradient)) < 1e-3
