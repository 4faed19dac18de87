"""The demons method: the demons filter on every core gives the same field bit for bit as on
one, a mask runs the demons metric and still recovers the known deformation, cancel stops it,
and settings it cannot use are one line.

The known deformation is test_register's (the rotation, then a Gaussian bump); the REG is
judged by the standard's equation written out in tests/core/reg (pydicom and numpy).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from phantom import make_pair
from test_register import QUICK, SMALL, SMALL_SPACING, deformed_mapping, errors

from dicomreg.core.cli.main import main


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return make_pair(tmp_path_factory.mktemp("demons") / "deformed", deformed_mapping,
                     "deformed", SMALL, SMALL_SPACING)


def _quick() -> dict:
    return {k: QUICK[k] for k in ("shrink_factors", "smoothing_sigmas", "linear_iterations")}


def test_two_threads_give_the_field_of_one_bit_for_bit(pair, monkeypatch):
    from dicomreg.core.registration import demons, load_image, register

    fixed, moving = load_image(pair.fixed), load_image(pair.moving)
    fields = []
    for threads in (1, 2, 2):
        monkeypatch.setattr(demons, "_threads", lambda n=threads: n)
        result = register(fixed, moving, "demons", _quick())
        fields.append(np.array(result.deformation.image.voxels))
    assert np.abs(fields[0]).max() > 1.0  # a deformation was found, not a zero field
    assert np.array_equal(fields[0], fields[1]) and np.array_equal(fields[1], fields[2])


def test_a_mask_runs_the_demons_metric_and_recovers_the_deformation(tmp_path, pair):
    """With --fixed-mask the stage is the demons metric of the registration method (the
    filter takes no mask); the mask here is the body, so the known answers hold."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(pair.fixed)))
    body = sitk.Cast(reader.Execute() > -500, sitk.sitkUInt8)
    mask = tmp_path / "body.mha"
    sitk.WriteImage(body, str(mask))
    out = tmp_path / "reg.dcm"  # the defaults: the masked stage's rigid start is the common one
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out), "--method",
                 "demons", "--fixed-mask", str(mask)]) == 0
    error = errors(out, pair.mapping)
    assert error.mean() < 1.0 and np.percentile(error, 95) < 2.0, error.mean()
    report = json.loads(Path(f"{out}.quality.json").read_text())
    assert report["folding_voxels"] == 0


def test_cancel_in_the_demons_stage_stops_it(pair):
    from dicomreg.core.registration import RegistrationCancelledError, load_image, register

    seen = []

    def progress(report):
        if report.stage == "demons":
            seen.append(report)
        return len(seen) < 3

    with pytest.raises(RegistrationCancelledError, match="cancelled .*demons: level 1/3"):
        register(load_image(pair.fixed), load_image(pair.moving), "demons", _quick(),
                 progress=progress)
    assert len(seen) == 3 and [r.iteration for r in seen] == [1, 2, 3]


@pytest.mark.parametrize("levels", [{"demons_iterations": [10, 5]},
                                    {"demons_shrink_factors": [2, 0, 1]},
                                    {"demons_smoothing_sigmas": "wide"}])
def test_levels_it_cannot_use_are_one_line(tmp_path, pair, capsys, levels):
    params = tmp_path / "bad.json"
    params.write_text(json.dumps(levels))
    out = tmp_path / "reg.dcm"
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out), "--method",
                 "demons", "--params", str(params)]) == 1
    message = capsys.readouterr().err.strip()
    assert "level" in message and "\n" not in message, message
    assert not out.exists()
