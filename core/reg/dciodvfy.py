"""Running dciodvfy (Debian package dicom3tools), the standard's reference validator.

Its exit status is not reliable (some errors exit 0), so its verdict is read from its output:
lines that start with ``Error`` or ``Warning``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field

__all__ = ["DciodvfyResult", "dciodvfy_available", "print_dciodvfy", "run_dciodvfy"]


@dataclass
class DciodvfyResult:
    """dciodvfy's error and warning lines for one file."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    output: str = ""

    def __str__(self) -> str:
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"


def dciodvfy_available() -> bool:
    """Whether dciodvfy is on PATH."""
    return shutil.which("dciodvfy") is not None


def run_dciodvfy(path: str | os.PathLike[str], timeout: float = 600) -> DciodvfyResult:
    """Validate one file with dciodvfy and collect its Error and Warning lines."""
    executable = shutil.which("dciodvfy")
    if executable is None:
        raise FileNotFoundError("dciodvfy is not on PATH (Debian package dicom3tools)")
    completed = subprocess.run([executable, os.fspath(path)], capture_output=True, text=True,
                               errors="replace", timeout=timeout, check=False)
    output = completed.stdout + completed.stderr
    lines = output.splitlines()
    return DciodvfyResult(
        errors=[line for line in lines if line.startswith("Error")],
        warnings=[line for line in lines if line.startswith("Warning")],
        output=output,
    )


def print_dciodvfy(result: DciodvfyResult) -> None:
    """Print dciodvfy's verdict, then its error and warning lines."""
    print(f"dciodvfy: {result}")
    for line in result.errors + result.warnings:
        print(f"  {line}")
