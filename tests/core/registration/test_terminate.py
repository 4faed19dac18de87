"""``kill`` (SIGTERM) of a registering command ends what it started: elastix's child process
and its temporary folder go, and no REG is left. Python's default ended the process at once
and left elastix running (found with a parameter file of 4 billion iterations)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLE

ENDLESS = ('(Transform "EulerTransform")\n(NumberOfResolutions 1)\n'
           '(MaximumNumberOfIterations 2000000000)\n(Registration "MultiResolutionRegistration")\n'
           '(Metric "AdvancedMattesMutualInformation")\n'
           '(Optimizer "AdaptiveStochasticGradientDescent")\n(ImageSampler "RandomCoordinate")\n'
           '(Interpolator "LinearInterpolator")\n'
           '(ResampleInterpolator "FinalBSplineInterpolator")\n'
           '(Resampler "DefaultResampler")\n(FixedImagePyramid "FixedSmoothingImagePyramid")\n'
           '(MovingImagePyramid "MovingSmoothingImagePyramid")\n')


def _processes_in(folder: Path) -> list[str]:
    """The command lines of the processes that name ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in line:
            found.append(line)
    return found


@pytest.mark.skipif(shutil.which("elastix") is None, reason="needs Debian's elastix")
def test_sigterm_ends_the_elastix_child_and_its_folder(tmp_path):
    parameters = tmp_path / "endless.txt"
    parameters.write_text(ENDLESS)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    out = tmp_path / "reg.dcm"
    command = subprocess.Popen(
        [sys.executable, "-m", "dicomreg.core.cli.main", "register", str(SAMPLE / "fixed"),
         str(SAMPLE / "moving"), "-o", str(out), "--method", "elastix", "--params",
         str(parameters)], env={**os.environ, "TMPDIR": str(temporary)},
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _processes_in(temporary) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_in(temporary), "elastix did not start"
    command.send_signal(signal.SIGTERM)
    assert command.wait(30) == 128 + signal.SIGTERM
    time.sleep(0.5)
    assert _processes_in(temporary) == [] and list(temporary.iterdir()) == []
    assert not out.exists()
