"""SimpleITK images written in place, and a memory-mapped field's pages given back."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from dicomreg.core.image import Geometry
from dicomreg.core.itk import new_image, release_pages, writable_array

GRID = Geometry((5, 4, 3), (1.0, 2.0, 2.5), (1.0, -2.0, 3.0), (0, 1, 0, 1, 0, 0, 0, 0, 1))


def test_a_new_image_is_written_through_its_array_and_keeps_its_geometry():
    image, array = new_image(GRID, sitk.sitkVectorFloat64, 3)
    array[...] = np.arange(array.size, dtype=float).reshape(array.shape)
    assert array.shape == (3, 4, 5, 3)
    assert image.GetPixel(4, 3, 2) == tuple(array[2, 3, 4])
    assert image.GetSpacing() == GRID.spacing and image.GetOrigin() == GRID.origin
    assert image.GetDirection() == GRID.direction
    transform = sitk.DisplacementFieldTransform(image)  # takes the buffer as written
    point = GRID.index_to_point(np.array([1, 2, 0]))
    assert np.allclose(np.subtract(transform.TransformPoint(tuple(point)), point),
                       array[0, 2, 1])


def test_a_filter_output_is_changed_in_place():
    image, array = new_image(GRID, sitk.sitkFloat32)
    array[...] = 1.0
    output = sitk.Resample(image, image)
    writable_array(output)[0, 0, 0] = 7.0
    assert output.GetPixel(0, 0, 0) == 7.0 and image.GetPixel(0, 0, 0) == 1.0


def test_released_pages_read_back_the_same(tmp_path):
    path = tmp_path / "field.raw"
    np.arange(3 * 64 * 64 * 3, dtype=np.float32).tofile(path)
    mapped = np.memmap(path, np.float32, "r").reshape(3, 64, 64, 3)
    before = mapped[1].copy()
    release_pages(mapped, mapped[1])
    release_pages(np.ones(4), np.ones(4)[1:])  # not mapped: nothing to do
    assert np.array_equal(mapped[1], before)
