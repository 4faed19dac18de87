"""Registration: known answers on synthetic pairs, the REG judged by independent oracles.

The moving image is the analytic phantom warped by a known pull mapping T. The REG that
``dicomreg register`` writes is decoded by pydicom and applied by the standard's equation
written out in tests/core/reg/test_standard_equation.py (not our code), at points inside
the body; dciodvfy counts through conftest's counter. Each method meets a translation, a
rotation (with a shift) and a smooth deformation (the rotation, then a Gaussian bump of a
few mm); the known mapping is numpy's (tests/core/registration/phantom.py). The small
images and few iterations keep the suite quick: by default each method meets the pair it is
for, ``DICOMREG_REGISTER=long`` adds every other pair and the full-size defaults.
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
         "bspline_iterations": 20, "number_of_resolutions": 2, "maximum_iterations": 100}
RIGID = rotation(3.0, [3.0, -2.0, 1.5])
SHIFT = np.array([4.0, -3.0, 2.5])
LONG = os.environ.get("DICOMREG_REGISTER") == "long"
METHODS = ("rigid", "affine", "bspline", "demons", "elastix")
# the pairs each method meets in the quick suite; the long one runs every method on each
QUICK_CASES = {("rigid", "translation"), ("rigid", "rotation"), ("affine", "rotation"),
               ("bspline", "deformed"), ("demons", "deformed"), ("elastix", "deformed")}


def translation_mapping(points: np.ndarray) -> np.ndarray:
    return points + SHIFT


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
            for name, mapping in (("translation", translation_mapping),
                                  ("rotation", rigid_mapping),
                                  ("deformed", deformed_mapping))}


def quick_params(tmp_path: Path, method: str) -> Path:
    from dicomreg.core.registration import settings_for

    known = settings_for(method)
    path = tmp_path / "quick.json"
    path.write_text(json.dumps({k: v for k, v in QUICK.items() if k in known}))
    return path


def errors(reg_path: Path, mapping) -> np.ndarray:
    points = body_points(3, SMALL, SMALL_SPACING)
    return np.linalg.norm(standard_map(decode(reg_path), points) - mapping(points), axis=1)


def _cases() -> list:
    linear = ("translation", "rotation")
    return [pytest.param(method, pair, marks=[] if (method, pair) in QUICK_CASES or LONG
                         else pytest.mark.skip(reason="set DICOMREG_REGISTER=long"))
            for method in METHODS for pair in (*linear, "deformed")
            if method not in ("rigid", "affine") or pair in linear]


@pytest.mark.parametrize(("method", "pair"), _cases())
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


@pytest.fixture(scope="module", params=["bspline", "demons", "elastix"])
def deformable_result(request, pairs):
    """A deformable method's result on the deformed pair; its ``transform`` is SimpleITK's
    composite for bspline and demons, elastix's own ITK transform for elastix."""
    from dicomreg.core.registration import load_image, register, settings_for

    pair, method = pairs["deformed"], request.param
    known = settings_for(method)
    params = {k: v for k, v in QUICK.items() if k in known}
    fixed, moving = load_image(pair.fixed), load_image(pair.moving)
    return method, fixed, moving, params, register(fixed, moving, method, params)


def _save(tmp_path: Path, pair, deformation) -> Path:
    from dicomreg.core.regsave import SaveRequest, save_registration

    return save_registration(SaveRequest(field="", output=str(tmp_path / "reg.dcm"),
                                         fixed=str(pair.fixed), moving=str(pair.moving),
                                         deformation=deformation)).path


def mapped_by(transform, points: np.ndarray) -> np.ndarray:
    """Where the registration's own transform sends the points: SimpleITK's or ITK's
    TransformPoint, or transformix's point mapping for the elastix executables."""
    if hasattr(transform, "transform_points"):
        return transform.transform_points(points)
    return np.array([transform.TransformPoint(tuple(p)) for p in points])


def test_the_pre_matrix_maps_as_itk_maps_the_composite(tmp_path, pairs, deformable_result):
    *_, result = deformable_result
    reg = decode(_save(tmp_path, pairs["deformed"], result.deformation))
    assert np.allclose(reg["pre"], result.affine, atol=1e-6)
    assert not np.allclose(reg["pre"], np.eye(4))
    points = body_points(3, SMALL, SMALL_SPACING)
    itk = mapped_by(result.transform, points)
    assert np.abs(standard_map(reg, points) - itk).max() < 0.01


def test_fold_affine_keeps_the_mapping_with_an_identity_pre(tmp_path, pairs,
                                                            deformable_result):
    from dicomreg.core.registration import register

    method, fixed, moving, params, result = deformable_result
    folded = register(fixed, moving, method, params, fold_affine=True)
    reg = decode(_save(tmp_path, pairs["deformed"], folded.deformation))
    assert np.allclose(reg["pre"], np.eye(4))
    points = body_points(3, SMALL, SMALL_SPACING)
    itk = mapped_by(result.transform, points)
    assert np.abs(standard_map(reg, points) - itk).max() < 0.01


def test_a_rerun_gives_the_same_field_bit_for_bit(deformable_result):
    from dicomreg.core.registration import register

    method, fixed, moving, params, result = deformable_result
    again = register(fixed, moving, method, params)
    assert np.array_equal(again.affine, result.affine)
    assert np.array_equal(again.deformation.image.voxels, result.deformation.image.voxels)


def test_cancel_stops_the_registration(pairs):
    from dicomreg.core.registration import RegistrationCancelledError, load_image, register

    pair = pairs["rotation"]
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
    pair = pairs["rotation"]
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


def test_elastix_takes_the_users_parameter_files(tmp_path, pairs, monkeypatch):
    """``--params`` for elastix: its parameter files, one per stage; a translation file (the
    text a person writes, read by elastix) recovers the known shift. Nothing is written in
    the current directory (itk's transformix_deformation_field would leave
    deformationField.nii there)."""
    pair = pairs["translation"]
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    stage = tmp_path / "translation.txt"
    stage.write_text('(Transform "TranslationTransform")\n'
                     '(Registration "MultiResolutionRegistration")\n'
                     '(Metric "AdvancedMattesMutualInformation")\n'
                     '(Optimizer "AdaptiveStochasticGradientDescent")\n'
                     '(ImageSampler "RandomCoordinate")\n(Interpolator "LinearInterpolator")\n'
                     '(ResampleInterpolator "FinalBSplineInterpolator")\n'
                     '(Resampler "DefaultResampler")\n'
                     '(FixedImagePyramid "FixedSmoothingImagePyramid")\n'
                     '(MovingImagePyramid "MovingSmoothingImagePyramid")\n'
                     '(NumberOfResolutions 2)\n(MaximumNumberOfIterations 100)\n'
                     '(NumberOfSpatialSamples 2048)\n(NewSamplesEveryIteration "true")\n'
                     '(AutomaticParameterEstimation "true")\n')
    out = tmp_path / "reg.dcm"
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out),
                 "--method", "elastix", "--params", str(stage)]) == 0
    error = errors(out, pair.mapping)
    assert error.mean() < 1.0 and np.percentile(error, 95) < 2.0, error.mean()
    reg = decode(out)
    assert np.allclose(reg["pre"][:3, :3], np.eye(3)) and not np.allclose(reg["pre"], np.eye(4))
    assert dciodvfy_counts(out)[0] == []
    assert list(here.iterdir()) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("these are my notes, not elastix parameters\n", "elastix parameter file"),
    ('(Transform "TranslationTransform")\n(Registration "MultiResolutionRegistration")\n'
     '(Metric "AdvancedMattesMutualInformation")\n', "stage failed"),
    # found by a review: each gave a traceback in the progress
    ('(Transform "TranslationTransform")\n(NumberOfResolutions "one")\n', "NumberOfResolutions"),
    ('(Transform "TranslationTransform")\n(NumberOfResolutions)\n', "NumberOfResolutions"),
    ('(Transform "TranslationTransform")\n(NumberOfResolutions 1e400)\n', "NumberOfResolutions"),
    ('(Transform "TranslationTransform")\n(MaximumNumberOfIterations 100 -5)\n',
     "MaximumNumberOfIterations"),  # elastix reads it unsigned: 4 billion iterations
])
def test_an_elastix_parameter_file_that_is_not_one_is_one_clear_line(tmp_path, pairs, capsys,
                                                                      text, expected):
    pair = pairs["translation"]
    stage = tmp_path / "notes.txt"
    stage.write_text(text)
    out = tmp_path / "reg.dcm"
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out),
                 "--method", "elastix", "--params", str(stage)]) == 1
    message = capsys.readouterr().err.strip()
    assert expected in message, message
    assert "\n" not in message and "see elastix log" not in message.lower()
    assert not out.exists()


def test_elastix_not_installed_says_the_pip_install(tmp_path, pairs, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "itk", None)  # import itk raises ImportError
    monkeypatch.setenv("PATH", str(tmp_path))  # nor elastix's executables
    pair = pairs["translation"]
    out = tmp_path / "reg.dcm"
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out),
                 "--method", "elastix"]) == 1
    message = capsys.readouterr().err.strip()
    assert "itk-elastix" in message and "pip install" in message and "\n" not in message
    assert "apt-get install elastix" in message
    assert not out.exists()


needs_executables = pytest.mark.skipif(
    __import__("shutil").which("elastix") is None, reason="Debian's elastix is not installed")
FEW = {"number_of_resolutions": 2, "maximum_iterations": 20, "rigid_maximum_iterations": 20}


@needs_executables
def test_elastix_progress_is_its_table_of_iterations(pairs):
    from dicomreg.core.registration import load_image, register

    pair, seen = pairs["translation"], []
    register(load_image(pair.fixed), load_image(pair.moving), "elastix", FEW,
             progress=seen.append)
    stages = {r.stage for r in seen}
    assert stages == {"elastix EulerTransform", "elastix BSplineTransform"}
    for stage in stages:
        rows = [(r.level, r.iteration) for r in seen if r.stage == stage]
        assert rows == [(level, i) for level in range(2) for i in range(20)], stage
    assert all(r.levels == 2 and np.isfinite(r.metric) for r in seen)


@needs_executables
def test_elastix_cancel_kills_the_child_and_its_folder_goes(pairs, tmp_path, monkeypatch):
    import subprocess
    import tempfile

    from dicomreg.core.registration import (
        RegistrationCancelledError,
        elastix_exe,
        load_image,
        register,
    )

    started, real = [], subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(elastix_exe.subprocess, "Popen", popen)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pair = pairs["translation"]

    def progress(report):
        return report.stage != "elastix BSplineTransform" or report.iteration < 5

    with pytest.raises(RegistrationCancelledError, match="cancelled.*BSplineTransform"):
        register(load_image(pair.fixed), load_image(pair.moving), "elastix", FEW,
                 progress=progress)
    assert len(started) == 1 and started[0].returncode is not None
    assert started[0].returncode != 0  # killed, not run to its end
    assert list(tmp_path.iterdir()) == []


@needs_executables
def test_a_failing_elastix_is_one_line_with_its_own_error(tmp_path, pairs, capsys):
    pair = pairs["translation"]
    stage = tmp_path / "no_optimizer.txt"
    stage.write_text('(Transform "TranslationTransform")\n'
                     '(Registration "MultiResolutionRegistration")\n')
    out = tmp_path / "reg.dcm"
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out),
                 "--method", "elastix", "--params", str(stage)]) == 1
    message = capsys.readouterr().err.strip()
    assert "TranslationTransform stage failed" in message and "\n" not in message
    assert "the following component has not been specified" in message, message
    assert not out.exists()


def test_elastix_without_its_executables_falls_back_to_itk_elastix(tmp_path, pairs,
                                                                    monkeypatch):
    """The same maps through itk-elastix's wrapping: the known answer, Pre p + D(p)
    against elastix's own ITK transform, and a bit-identical rerun on the default threads."""
    pytest.importorskip("itk")
    from dicomreg.core.registration import elastix, load_image, register

    monkeypatch.setattr(elastix, "executables", lambda: None)
    pair = pairs["deformed"]
    params = {k: v for k, v in QUICK.items() if k in FEW}
    result = register(load_image(pair.fixed), load_image(pair.moving), "elastix", params)
    assert type(result.transform).__module__.startswith("itk")
    reg = decode(_save(tmp_path, pair, result.deformation))
    points = body_points(3, SMALL, SMALL_SPACING)
    error = np.linalg.norm(standard_map(reg, points) - pair.mapping(points), axis=1)
    assert error.mean() < 1.0 and np.percentile(error, 95) < 2.0, error.mean()
    assert np.abs(standard_map(reg, points) - mapped_by(result.transform, points)).max() < 0.01
    again = register(load_image(pair.fixed), load_image(pair.moving), "elastix", params)
    assert np.array_equal(again.deformation.image.voxels, result.deformation.image.voxels)
