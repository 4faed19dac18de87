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
       ("bspline_maximum_samples", 1.5), ("bspline_iterations", 0), ("grid_spacing_mm", -40)]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_number_out_of_range_is_one_line(tmp_path, capsys, name, value):
    method = "demons" if name.startswith(("demons", "field", "intensity")) else \
        "bspline" if name.startswith(("bspline", "grid")) else "rigid"
    params = tmp_path / "bad.json"
    params.write_text(json.dumps({name: value}))
    out = tmp_path / "reg.dcm"
    # the images are not read: the settings are refused first
    assert main(["register", str(tmp_path / "no-fixed"), str(tmp_path / "no-moving"), "-o",
                 str(out), "--method", method, "--params", str(params)]) == 1
    message = capsys.readouterr().err.strip()
    assert f"setting {name!r} is" in message and "expected" in message, message
    assert "\n" not in message and not out.exists()


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
