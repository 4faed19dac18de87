"""Image's description: dimensions as x by y by z, as the command line prints them."""

from __future__ import annotations

import numpy as np

from dicomreg.core import Geometry, Image


def test_dimensions_are_x_by_y_by_z_not_numpy_order():
    # numpy order (z, y, x, component): 200 slices of 512 rows of 256 columns
    field = Image(np.zeros((200, 512, 256, 3), np.float32),
                  Geometry((256, 512, 200), (1.0, 0.5, 2.0), (0.0, 0.0, 0.0)))
    assert field.dimensions == "256x512x200"
    assert field.describe().startswith("256x512x200 of 3-vectors float32, spacing 1 0.5 2")
    assert "200x512" not in field.describe()
    scalar = Image(np.zeros((4, 3, 2), np.int16), None)
    assert scalar.dimensions == "2x3x4" and scalar.describe() == "2x3x4 int16"
    assert Image(None, None).dimensions == "" and Image(None, None).describe() == "empty image"
    headers_only = Image(None, Geometry((256, 512, 200), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)))
    assert headers_only.describe().startswith("256x512x200 grid, spacing 1 1 1")


def test_the_grid_size_in_an_empty_grid_message_is_x_by_y_by_z():
    from dicomreg.core.reg import check_fields
    from dicomreg.core.regsave import DicomREGSave

    empty = Image(np.zeros((0, 3, 2, 3), np.float32), None)
    problems = check_fields(DicomREGSave().values(), empty)
    assert any("2x3x0 (x by y by z)" in p.message for p in problems), problems
