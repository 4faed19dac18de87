"""The code stays ruff clean (the rules are in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess

from conftest import ROOT


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    assert ruff, "ruff is a test dependency: pip install -e '.[test]'"
    completed = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
