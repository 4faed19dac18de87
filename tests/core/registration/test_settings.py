"""Settings a stage cannot run with are refused before it runs, in one line naming the
setting and what it takes."""

from __future__ import annotations

import json
import math

import pytest

from dicomreg.core.cli.main import main

BAD = [("sampling_percentage", 0), ("sampling_percentage", 1.5), ("histogram_bins", "32"),
       ("histogram_bins", 2), ("linear_maximum_samples", -1), ("linear_iterations", 2.5),
       ("linear_iterations", 0), ("linear_minimum_step", 0), ("linear_minimum_step", True),
       ("linear_relaxation", 1), ("linear_relaxation", math.nan),
       ("demons_smoothing_voxels", -1), ("field_variance_mm2", 0), ("intensity_threshold", -0.5),
       ("demons_match_histograms", "no"), ("bspline_sampling_percentage", 0),
       ("bspline_maximum_samples", 1.5), ("bspline_iterations", 0), ("grid_spacing_mm", -40),
       # found by a review: each of these gave a traceback or was taken silently
       ("number_of_threads", "two"), ("number_of_threads", 0), ("demons_iterations", 1e300),
       ("demons_iterations", 1e30), ("grid_spacing_mm", "40mm"), ("smoothing_sigmas", ["a", 0]),
       ("bspline_iterations", "x"), ("number_of_resolutions", "x"),
       ("final_grid_spacing_mm", "x"), ("maximum_iterations", "x"),
       ("maximum_iterations", [1.5, 2.5]), ("bending_energy_weight", "x"),
       ("parameter_files", 5), ("parameter_files", "rigid.txt"), ("seed", "abc"),
       ("seed", 2 ** 70), ("demons_shrink_factors", "421"), ("spatial_samples", -1),
       ("shrink_factors", [])]


def _method_of(name: str) -> str:
    from dicomreg.core.registration import METHODS, settings_for

    return next((m for m in METHODS if name in settings_for(m)), "rigid")


@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_setting_it_cannot_use_is_one_line(tmp_path, capsys, name, value):
    params = tmp_path / "bad.json"
    params.write_text(json.dumps({name: value}))
    out = tmp_path / "reg.dcm"
    # the images are not read: the settings are refused first
    assert main(["register", str(tmp_path / "no-fixed"), str(tmp_path / "no-moving"), "-o",
                 str(out), "--method", _method_of(name), "--params", str(params)]) == 1
    message = capsys.readouterr().err.strip()
    assert f"setting {name!r} is" in message and "expected" in message, message
    assert "\n" not in message and not out.exists()


@pytest.mark.parametrize(("method", "levels"), [
    ("demons", {"demons_iterations": [10, 5]}), ("bspline", {"bspline_shrink_factors": [2]}),
    ("rigid", {"smoothing_sigmas": [1.0]}), ("elastix", {"maximum_iterations": [10, 10, 10]})])
def test_levels_that_do_not_match_are_refused_before_the_images_are_read(tmp_path, capsys,
                                                                         method, levels):
    params = tmp_path / "bad.json"
    params.write_text(json.dumps(levels))
    assert main(["register", str(tmp_path / "no-fixed"), str(tmp_path / "no-moving"), "-o",
                 str(tmp_path / "reg.dcm"), "--method", method, "--params", str(params)]) == 1
    message = capsys.readouterr().err.strip()
    assert "no-fixed" not in message and "\n" not in message, message
    assert "level" in message or "resolution" in message, message


def test_a_seed_argument_out_of_range_is_one_line(tmp_path, capsys):
    from conftest import SAMPLE

    assert main(["register", str(SAMPLE / "fixed"), str(SAMPLE / "moving"), "-o",
                 str(tmp_path / "reg.dcm"), "--method", "rigid", "--seed", str(2 ** 40)]) == 1
    message = capsys.readouterr().err.strip()
    assert "setting 'seed' is" in message and "\n" not in message, message


def test_numbers_in_range_are_taken():
    from dicomreg.core.registration import settings_for

    taken = settings_for("rigid", {"sampling_percentage": 1.0, "linear_maximum_samples": 0,
                                   "linear_iterations": 3.0, "linear_relaxation": 0.5})
    assert taken["linear_iterations"] == 3.0 and taken["sampling_percentage"] == 1.0


@pytest.mark.parametrize("missing", ["fixed", "moving"])
def test_a_missing_image_is_named_by_its_role(tmp_path, capsys, missing):
    from conftest import SAMPLE

    images = {"fixed": str(SAMPLE / "fixed"), "moving": str(SAMPLE / "moving")}
    images[missing] = str(tmp_path / "nowhere")
    assert main(["register", images["fixed"], images["moving"], "-o",
                 str(tmp_path / "reg.dcm")]) == 1
    message = capsys.readouterr().err.strip()
    assert f"{missing} image '{images[missing]}' does not exist" in message, message


@pytest.mark.parametrize("slices", [1, 3])
def test_an_image_of_a_few_slices_is_one_line(tmp_path, capsys, slices):
    """ITK's smoothing needs 4 voxels along each axis; a review found a 3-slice image gave
    a RuntimeError traceback from the demons stage."""
    import SimpleITK as sitk

    image = sitk.GaussianSource(sitk.sitkFloat32, [32, 32, slices], [8.0, 8.0, 2.0],
                                [16.0, 16.0, 1.0], 1000.0)
    thin = tmp_path / "thin.mha"
    sitk.WriteImage(image, str(thin))
    out = tmp_path / "reg.dcm"
    assert main(["register", str(thin), str(thin), "-o", str(out), "--method", "demons"]) == 1
    message = capsys.readouterr().err.strip()
    assert f"32x32x{slices} voxels" in message and "at least 4" in message, message
    assert "\n" not in message and not out.exists()
