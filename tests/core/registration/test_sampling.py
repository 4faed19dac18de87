"""The metric's sample at each level: a fraction of the level's voxels, capped in points."""

from __future__ import annotations

import pytest

from dicomreg.core.registration import settings_for
from dicomreg.core.registration.stages import sampling_per_level


def test_the_sample_is_the_fraction_but_at_most_the_cap():
    settings = settings_for("rigid")
    voxels = 96 * 96 * 48  # the bench's synthetic pair
    fractions = sampling_per_level(settings, voxels, [4, 2, 1])
    points = [f * voxels / s ** 3 for f, s in zip(fractions, [4, 2, 1], strict=True)]
    # 1728 and 13824 points at the coarser levels: under the cap, the fraction holds
    assert fractions[:2] == [settings["sampling_percentage"]] * 2
    assert points[2] == pytest.approx(settings["linear_maximum_samples"])  # not 110,592


def test_a_small_image_and_the_deformable_stage_keep_the_fraction():
    settings = settings_for("bspline")
    assert sampling_per_level(settings, 48 * 40 * 12, [2, 1]) == [0.25, 0.25]
    assert sampling_per_level(settings, 96 * 96 * 48, [2, 1], linear=False) == [0.25, 0.25]


def test_a_fixed_mask_keeps_the_capped_sample_inside_it():
    """ITK draws the sample from the whole grid and drops the points outside the mask, so the
    fraction is taken of the voxels inside: with half of the image inside, the finest level
    still keeps the cap (it kept half of it)."""
    import numpy as np
    import SimpleITK as sitk

    from dicomreg.core.registration.stages import _sampled_voxels

    settings = settings_for("rigid")
    fixed = sitk.Image([96, 96, 48], sitk.sitkFloat32)
    fixed.SetSpacing([2.0, 2.0, 3.0])
    inside = np.zeros((48, 96, 96), np.uint8)
    inside[:, :, :48] = 1  # 48 of 96 columns; the mask on a grid twice as fine in z
    mask = sitk.GetImageFromArray(np.repeat(inside, 2, axis=0))
    mask.SetSpacing([2.0, 2.0, 1.5])
    voxels = _sampled_voxels(fixed, mask)
    assert voxels == 48 * 96 * 48
    kept = sampling_per_level(settings, voxels, [4, 2, 1])[2] * voxels
    assert kept == pytest.approx(settings["linear_maximum_samples"])
    assert _sampled_voxels(fixed, None) == 96 * 96 * 48


def test_the_bspline_sample_is_capped_where_it_was_dear_and_kept_on_the_known_answers():
    from dicomreg.core.registration.stages import bspline_sampling

    settings = settings_for("bspline")
    cap, fraction = settings["bspline_maximum_samples"], settings["bspline_sampling_percentage"]
    bench = 96 * 96 * 48  # full size: 25 % would be 110,592 points an evaluation
    shrink = settings["bspline_shrink_factors"]
    points = [f * bench / s ** 3 for f, s in zip(bspline_sampling(settings, bench), shrink,
                                                  strict=True)]
    assert points[-1] == pytest.approx(cap)
    assert bspline_sampling(settings, bench)[0] == fraction  # 13,824 at shrink 2: under it
    # the known-answer phantoms (64x64x32, 48x48x24) keep the fraction, so their answers stay
    for voxels in (64 * 64 * 32, 48 * 48 * 24):
        assert bspline_sampling(settings, voxels) == [fraction] * len(shrink)
    assert bspline_sampling({**settings, "bspline_maximum_samples": 0}, bench) == [
        fraction] * len(shrink)


def test_a_mask_on_a_wider_grid_counts_only_what_the_fixed_image_covers():
    import numpy as np
    import SimpleITK as sitk

    from dicomreg.core.registration.stages import _sampled_voxels

    fixed = sitk.Image([40, 40, 20], sitk.sitkFloat32)  # 0 to 39 mm along x
    inside = np.zeros((20, 40, 80), np.uint8)
    inside[:, :, 10:40] = 1  # x from -10 to 19 mm: half of the fixed image, and beyond it
    mask = sitk.GetImageFromArray(inside)
    mask.SetOrigin([-20.0, 0.0, 0.0])  # the mask reaches 20 mm further to the left
    assert _sampled_voxels(fixed, mask) == 40 * 20 * 20
