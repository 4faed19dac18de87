"""Running dciodvfy (Debian package dicom3tools), the standard's reference validator.

Its exit status is not reliable (some errors exit 0), so its verdict is read from its output,
and every message counts: ``Error - ``, ``Warning - `` and ``Abort - `` at the start of a line
or after ``  - ``. A message does not always start its line: about an attribute it cannot
look up, dciodvfy writes ``(0x0011,0x1001)  ?  - Warning - Unrecognized tag - ...``. An
Abort (dciodvfy could not go on) counts as an error.

Some warnings are the honest result rather than a fault, and the verdict says why they are
there: a private block is legitimate, yet dciodvfy cannot look up private tags; an empty
Laterality is what the standard asks for when the side is unknown (no Body Part Examined, or
a paired part without a side, in the source), and no side is invented to silence it; an
empty Patient ID when no source names the patient (Type 2: empty when unknown); and
``copyOtherInputTags`` copies attributes the IOD does not have (a Standard Extended SOP
Class).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["NOT_INSTALLED", "DciodvfyResult", "dciodvfy_available", "parse_dciodvfy",
           "print_dciodvfy", "run_dciodvfy"]

#: What a command prints where it would run dciodvfy and cannot.
NOT_INSTALLED = "dciodvfy: not on PATH (Debian package dicom3tools); its check was skipped"

_MESSAGE = re.compile(r"(?:^|  - )(Error|Warning|Abort) - ")
_PRIVATE_TAG = re.compile(r"^\(0x[0-9a-f]{3}[13579bdf],0x[0-9a-f]{4}\)", re.IGNORECASE)

# Why a warning is expected: (what it is about, which lines).
_EXPECTED: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("about private attributes, which dciodvfy cannot look up",
     lambda line: bool(_PRIVATE_TAG.match(line)) and "Unrecognized tag" in line),
    ("about an empty Laterality: the source gives no Body Part Examined or no side, and "
     "none is invented",
     lambda line: "attribute <Laterality>" in line and "permitted to be empty" in line),
    ("about an empty Patient ID: no source gives the patient and none was set, and none is "
     "invented (Type 2: present, empty when unknown)",
     lambda line: line.endswith("needed to build DICOMDIR - Patient ID")),
    ("about attributes that copyOtherInputTags copied from the source and the IOD does "
     "not have",
     lambda line: "not present in standard DICOM IOD" in line),
)


@dataclass
class DciodvfyResult:
    """dciodvfy's error and warning messages for one file, each its whole line."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    output: str = ""

    def explained(self) -> list[tuple[int, str]]:
        """How many warnings are expected, and why, for each reason that occurs."""
        counts = [(sum(1 for w in self.warnings if matches(w)), reason)
                  for reason, matches in _EXPECTED]
        return [(count, reason) for count, reason in counts if count]

    def __str__(self) -> str:
        text = f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        reasons = "; ".join(f"{count} {reason}" for count, reason in self.explained())
        return f"{text} ({reasons})" if reasons else text


def parse_dciodvfy(output: str) -> DciodvfyResult:
    """dciodvfy's messages in its output (stdout and stderr together)."""
    errors, warnings = [], []
    for line in output.splitlines():
        for match in _MESSAGE.finditer(line):
            (warnings if match.group(1) == "Warning" else errors).append(line)
    return DciodvfyResult(errors=errors, warnings=warnings, output=output)


def dciodvfy_available() -> bool:
    """Whether dciodvfy is on PATH."""
    return shutil.which("dciodvfy") is not None


def run_dciodvfy(path: str | os.PathLike[str], timeout: float = 600) -> DciodvfyResult:
    """Validate one file with dciodvfy and collect its messages."""
    executable = shutil.which("dciodvfy")
    if executable is None:
        raise FileNotFoundError("dciodvfy is not on PATH (Debian package dicom3tools)")
    completed = subprocess.run([executable, os.fspath(path)], capture_output=True, text=True,
                               errors="replace", timeout=timeout, check=False)
    return parse_dciodvfy(completed.stdout + completed.stderr)


def print_dciodvfy(result: DciodvfyResult) -> None:
    """Print dciodvfy's verdict, then its error and warning lines."""
    print(f"dciodvfy: {result}")
    for line in result.errors + result.warnings:
        print(f"  {line}")
