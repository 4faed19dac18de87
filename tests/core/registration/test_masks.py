"""Masks: non-zero is inside for every method (as the command line says), and elastix takes
a moving mask alone. The known answers are judged by the standard's equation (pydicom and
numpy, tests/core/reg)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from phantom import make_pair
from test_register import SMALL, SMALL_SPACING, deformed_mapping, errors, quick_params

from dicomreg.core.cli.main import main


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return make_pair(tmp_path_factory.mktemp("masks") / "deformed", deformed_mapping,
                     "masks", SMALL, SMALL_SPACING)


def _body(series, path, inside: float):
    """The series' body (above -500 HU) as a float mask holding ``inside`` there."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series)))
    image = reader.Execute()
    body = sitk.Cast(image > -500, sitk.sitkFloat32) * inside
    sitk.WriteImage(body, str(path))
    return path


def test_a_mask_of_any_non_zero_value_is_the_same_mask(tmp_path, pair, capsys):
    """A probability mask (0.5) and a label above 255 are inside where they are not 0: the
    same matrix, bit for bit, as the mask of ones (a cast to 8 bits made them 0, outside)."""
    matrices = []
    for inside in (1.0, 0.5, 256.0):
        mask = _body(pair.fixed, tmp_path / f"mask{inside}.mha", inside)
        out = tmp_path / f"reg{inside}.dcm"
        assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out),
                     "--method", "rigid", "--fixed-mask", str(mask), "--no-dciodvfy",
                     "--params", str(quick_params(tmp_path, "rigid"))]) == 0, \
            capsys.readouterr().err
        from test_standard_equation import decode

        matrices.append(decode(out)["pre"])
    assert not np.allclose(matrices[0], np.eye(4))
    assert np.array_equal(matrices[0], matrices[1]) and np.array_equal(matrices[0], matrices[2])


def test_elastix_takes_a_moving_mask_alone(tmp_path, pair, capsys):
    mask = _body(pair.moving, tmp_path / "moving_body.mha", 1.0)
    out = tmp_path / "reg.dcm"
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out), "--method",
                 "elastix", "--moving-mask", str(mask), "--no-dciodvfy",
                 "--params", str(quick_params(tmp_path, "elastix"))]) == 0, \
        capsys.readouterr().err
    error = errors(out, pair.mapping)
    assert error.mean() < 1.0 and np.percentile(error, 95) < 2.0, error.mean()
