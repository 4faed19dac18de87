"""The push field as the fixed-point step samples it: edge-padded over its largest vector."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from dicomreg.core.deformation.fixed_point import padded_push
from dicomreg.core.image import Geometry


def test_the_push_field_is_padded_with_its_border_vectors_on_its_own_grid():
    a = np.radians(30)
    turn = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    geometry = Geometry((9, 8, 7), (1.0, 2.0, 3.0), (5.0, -4.0, 2.0), tuple(turn.ravel()))
    u = np.random.default_rng(1).uniform(-1, 1, (7, 8, 9, 3)).astype(np.float32)
    u[3, 3, 3] = (2.5, 0.0, 0.0)  # the longest: 2.5 mm
    image = padded_push(u, geometry, 2.5)
    padded = sitk.GetArrayFromImage(image)
    # 2.5 mm and one voxel more is 4, 3 and 2 voxels along x, y, z; at most size // 8 + 2
    # (3, 3, 2): x is capped
    assert image.GetSize() == (9 + 2 * 3, 8 + 2 * 3, 7 + 2 * 2)
    assert np.allclose(image.GetDirection(), turn.ravel())
    for index in np.ndindex(7, 8, 9):  # each voxel of u where ITK places it
        k, j, i = index
        point = geometry.index_to_point([i, j, k])
        x, y, z = image.TransformPhysicalPointToIndex(tuple(point))
        assert np.array_equal(padded[z, y, x], u[index])
    clamped = np.clip(np.indices(padded.shape[:3]) - np.array([2, 3, 3])[:, None, None, None],
                      0, np.array([6, 7, 8])[:, None, None, None])
    assert np.array_equal(padded, u[clamped[0], clamped[1], clamped[2]])
