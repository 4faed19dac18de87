"""CT to cone-beam CT with the defaults, untuned: the moving image has another intensity
scale and offset and noise (phantom.cone_beam), as a CBCT of the same patient, and the
mutual-information methods still recover the known deformation (mean < 1 mm, 95th percentile
< 2 mm at points inside the body, by the standard's equation: pydicom and numpy).

Demons is left out: its forces follow intensity differences, and even with
``demons_match_histograms`` it stays above these bounds on this pair (see README).
"""

from __future__ import annotations

import numpy as np
import pytest
from phantom import cone_beam, make_pair
from test_register import SMALL, SMALL_SPACING, deformed_mapping, errors, quick_params

from dicomreg.core.cli.main import main


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return make_pair(tmp_path_factory.mktemp("cbct") / "deformed", deformed_mapping,
                     "cone beam", SMALL, SMALL_SPACING, moving_scale=cone_beam)


@pytest.mark.parametrize("method", ["bspline", "elastix"])
def test_ct_to_cone_beam_with_the_defaults(tmp_path, pair, method):
    out = tmp_path / "reg.dcm"
    assert main(["register", str(pair.fixed), str(pair.moving), "-o", str(out), "--method",
                 method, "--params", str(quick_params(tmp_path, method)),
                 "--no-dciodvfy"]) == 0
    error = errors(out, pair.mapping)
    assert error.mean() < 1.0 and np.percentile(error, 95) < 2.0, (
        method, error.mean(), np.percentile(error, 95))
