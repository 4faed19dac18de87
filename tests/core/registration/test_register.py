"""Registration: known answers on synthetic pairs, the REG judged by independent oracles.

The moving image is the analytic phantom warped by a known pull mapping T. The REG that
``dicomreg register`` writes is decoded by pydicom and applied by the standard's equation
written out in tests/core/reg/test_standard_equation.py (not our code), at points inside
the body; dciodvfy counts through conftest's counter. The small images and few iterations
keep the suite quick; ``DICOMREG_REGISTER=long`` adds the full-size defaults.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import dciodvfy_counts
from phantom import body_points, bump, make_pair, rotation
from pydicom import dcmread

from dicomreg.core.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reg"))
from test_standard_equation import decode, standard_map  # noqa: E402

SMALL = (48, 48, 24)
SMALL_SPACING = (2.5, 2.5, 3.5)
QUICK = {"shrink_factors": [2, 1], "smoothing_sigmas": [1.0, 0.0], "linear_iterations": 80,
         "bspline_iterations": 20}
RIGID = rotation(3.0, [3.0, -2.0, 1.5])


def rigid_mapping(points: np.ndarray) -> np.ndarray:
    return points @ RIGID[:3, :3].T + RIGID[:3, 3]


def deformed_mapping(points: np.ndarray) -> np.ndarray:
    """The rigid map, then a B-spline-like bump of a few mm (T(p) = R p + b(R p))."""
    moved = rigid_mapping(points)
    return moved + bump(moved)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    return {name: make_pair(root / name, mapping, name, SMALL, SMALL_SPACING)
            for name, mapping in (("rigid", rigid_mapping), ("deformed", deformed_mapping))}


def quick_params(tmp_path: Path, method: str) -> Path:
    from dicomreg.core.registration import settings_for

    known = settings_for(method)
    path = tmp_path / "quick.json"
    path.write_text(json.dumps({k: v for k, v in QUICK.items() if k in known}))
    return path


def errors(reg_path: Path, mapping) -> np.ndarray:
    points = body_points(3, SMALL, SMALL_SPACING)
    return np.linalg.norm(standard_map(decode(reg_path), points) - mapping(points), axis=1)


@pytest.mark.parametrize(("method", "pair"), [("rigid", "rigid"), ("affine", "rigid"),
                                              ("bspline", "deformed"),
                                              ("demons", "deformed")])
def test_register_recovers_the_known_deformation(tmp_path, pairs, method, pair, capsys):
    chosen = pairs[pair]
    out = tmp_path / "reg.dcm"
    assert main(["register", str(chosen.fixed), str(chosen.moving), "-o", str(out),
                 "--method", method, "--params", str(quick_params(tmp_path, method))]) == 0
    printed = capsys.readouterr().out
    assert "quality:" in printed
    error = errors(out, chosen.mapping)
    assert error.mean() < 1.0, (method, error.mean())
    assert np.percentile(error, 95) < 2.0, (method, np.percentile(error, 95))
    dciodvfy_errors, _warnings = dciodvfy_counts(out)
    assert dciodvfy_errors == []
    referenced = {str(r.ReferencedSOPInstanceUID) for r in _walk(dcmread(out))
                  if "ReferencedSOPInstanceUID" in r}
    moving = {str(dcmread(f, stop_before_pixels=True).SOPInstanceUID)
              for f in chosen.moving_files}
    assert moving <= referenced
    report = json.loads(Path(f"{out}.quality.json").read_text())
    assert report["mutual_information_after"] > report["mutual_information_before"]
    assert report["folding_voxels"] == 0 and report["jacobian_minimum"] > 0


def _walk(ds):
    yield ds
    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                yield from _walk(item)


@pytest.fixture(scope="module")
def bspline_result(pairs):
    from dicomreg.core.registration import load_image, register, settings_for

    pair = pairs["deformed"]
    known = settings_for("bspline")
    params = {k: v for k, v in QUICK.items() if k in known}
    fixed, moving = load_image(pair.fixed), load_image(pair.moving)
    return fixed, moving, params, register(fixed, moving, "bspline", params)


def _save(tmp_path: Path, pair, deformation) -> Path:
    from dicomreg.core.regsave import SaveRequest, save_registration

    return save_registration(SaveRequest(field="", output=str(tmp_path / "reg.dcm"),
                                         fixed=str(pair.fixed), moving=str(pair.moving),
                                         deformation=deformation)).path


def test_the_pre_matrix_maps_as_itk_maps_the_composite(tmp_path, pairs, bspline_result):
    _, _, _, result = bspline_result
    reg = decode(_save(tmp_path, pairs["deformed"], result.deformation))
    assert np.allclose(reg["pre"], result.affine, atol=1e-6)
    assert not np.allclose(reg["pre"], np.eye(4))
    points = body_points(3, SMALL, SMALL_SPACING)
    itk = np.array([result.transform.TransformPoint(tuple(p)) for p in points])
    assert np.abs(standard_map(reg, points) - itk).max() < 0.01


def test_fold_affine_keeps_the_mapping_with_an_identity_pre(tmp_path, pairs, bspline_result):
    from dicomreg.core.registration import register

    fixed, moving, params, result = bspline_result
    folded = register(fixed, moving, "bspline", params, fold_affine=True)
    reg = decode(_save(tmp_path, pairs["deformed"], folded.deformation))
    assert np.allclose(reg["pre"], np.eye(4))
    points = body_points(3, SMALL, SMALL_SPACING)
    itk = np.array([result.transform.TransformPoint(tuple(p)) for p in points])
    assert np.abs(standard_map(reg, points) - itk).max() < 0.01


@pytest.mark.xfail(reason="not yet bit-identical: the rigid stage's matrix differs in its "
                   "7th digit between runs even with one registration thread", strict=False)
def test_a_rerun_gives_the_same_field_bit_for_bit(bspline_result):
    from dicomreg.core.registration import register

    fixed, moving, params, result = bspline_result
    again = register(fixed, moving, "bspline", params)
    assert np.array_equal(again.affine, result.affine)
    assert np.array_equal(again.deformation.image.voxels, result.deformation.image.voxels)


def test_cancel_stops_the_registration(pairs):
    from dicomreg.core.registration import RegistrationCancelledError, load_image, register

    pair = pairs["rigid"]
    seen = []

    def progress(report):
        seen.append(report)
        return len(seen) < 3

    with pytest.raises(RegistrationCancelledError, match="cancelled"):
        register(load_image(pair.fixed), load_image(pair.moving), "rigid", progress=progress)
    assert len(seen) == 3 and seen[0].stage == "rigid" and seen[0].levels == 3


def test_an_unknown_setting_is_one_clear_line(tmp_path, pairs, capsys):
    params = tmp_path / "bad.json"
    params.write_text('{"iterationz": 3}')
    pair = pairs["rigid"]
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(tmp_path / "r.dcm"),
                 "--params", str(params)]) == 1
    message = capsys.readouterr().err.strip()
    assert "'iterationz' is not a setting" in message and "\n" not in message
    assert not (tmp_path / "r.dcm").exists()


@pytest.mark.skipif(os.environ.get("DICOMREG_REGISTER") != "long",
                    reason="the full-size defaults: set DICOMREG_REGISTER=long")
@pytest.mark.parametrize("method", ["bspline", "demons"])
def test_full_size_defaults(tmp_path, method):
    pair = make_pair(tmp_path, deformed_mapping, f"long {method}")
    out = tmp_path / "reg.dcm"
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out),
                 "--method", method]) == 0
    points = body_points()
    error = np.linalg.norm(standard_map(decode(out), points) - pair.mapping(points), axis=1)
    assert error.mean() < 1.0 and np.percentile(error, 95) < 2.0
