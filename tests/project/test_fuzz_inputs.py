"""Hostile inputs through the real command line: every one is refused in one line of ours
(exit 1, no traceback, nothing written) or gives a valid file, within a memory bound and a
wall-clock timeout.

The cases are the builders of :mod:`fuzz_cases` (field files of every format, DICOM sources,
values and modifiers, REGs with bad geometry), each run as ``dicomreg`` in a subprocess under
``RLIMIT_AS`` (a small file must not exhaust the machine) and a timeout (a hang is a
failure). The fixed mode runs a budget of them in parallel (about a minute on two cores);
``DICOMREG_FUZZ=long`` runs all of them, and the hypothesis tests more examples. The counts
of each outcome are printed at the end (``-s``), for the record.
"""

from __future__ import annotations

import collections
import os
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydicom
import pytest
from conftest import ROOT, make_case
from fuzz_cases import CASES

LONG = os.environ.get("DICOMREG_FUZZ") == "long"
MEMORY_LIMIT = 2 << 30  # bytes of address space a case may map
TIMEOUT = 60 if LONG else 25  # seconds; a hang is a failure
PYTHON = sys.executable
OUTCOMES = ("refused", "succeeded", "traceback", "crash", "hang", "other")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):
    """A valid case, and a valid REG written from it."""
    folder = tmp_path_factory.mktemp("fuzz-base")
    valid = make_case(folder)
    reg = folder / "reg.dcm"
    subprocess.run([PYTHON, "-m", "dicomreg.core.cli.main", "save", str(valid.field),
                    "--fixed", str(valid.fixed), "--moving", str(valid.moving), "-o", str(reg),
                    "--no-dciodvfy"], check=True, capture_output=True, cwd=ROOT)
    valid.reg = reg
    return valid


def run_case(name: str, folder: Path, base: object) -> tuple[str, str]:
    """Build and run one case: its outcome (one of ``OUTCOMES``) and what it printed."""
    category, builder = CASES[name]
    folder.mkdir()
    (folder / "out").mkdir()
    args = builder(folder, base)
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    env.pop("DICOMREG_MAX_FIELD_BYTES", None)
    while "--env" in args:
        at = args.index("--env")
        key, _, value = args[at + 1].partition("=")
        env[key] = value
        del args[at : at + 2]
    try:
        done = subprocess.run([PYTHON, "-m", "dicomreg.core.cli.main", *args], cwd=folder,
                              capture_output=True, text=True, errors="replace", env=env,
                              timeout=TIMEOUT, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        return "hang", f"{name}: no answer in {TIMEOUT} s"
    return classify(args[0], done, folder / "out"), f"{name}: rc {done.returncode}: " \
        + done.stderr.strip()[-600:]


def classify(command: str, done: subprocess.CompletedProcess, out: Path) -> str:
    lines = done.stderr.splitlines()
    if "Traceback" in done.stderr:
        return "traceback"
    if done.returncode < 0:
        return "crash"
    if command == "validate" and done.returncode == 1 and not lines and done.stdout.strip():
        return "refused"  # validate's report: the problems on stdout, exit 1
    if done.returncode == 1:
        one_line = len(lines) == 1 and lines[0].startswith(f"dicomreg {command}: error: ")
        return "refused" if one_line and not any(out.iterdir()) else "other"
    if done.returncode == 0 and not lines:
        written = list(out.iterdir())
        if all(_valid(path) for path in written):
            return "succeeded"
    return "other"


def _valid(path: Path) -> bool:
    if path.suffix == ".dcm":
        return pydicom.dcmread(path).Modality == "REG"
    import SimpleITK as sitk

    return sitk.ReadImage(str(path)).GetNumberOfPixels() > 0


ALWAYS = {"limits", "transform", "special"}  # the memory, native-crash and hang cases


def _budget() -> list[str]:
    """Every case in long mode; else those of ``ALWAYS`` and every third of the others (a
    fixed sample: the same cases on every run), about 50 subprocesses."""
    names = sorted(CASES)
    if LONG:
        return names
    return [n for i, n in enumerate(names) if CASES[n][0] in ALWAYS or i % 3 == 0]


def test_every_hostile_input_is_refused_in_one_line_or_succeeds(base, tmp_path):
    names = _budget()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda n: (n, *run_case(n, tmp_path / n, base)), names))
    counts = collections.Counter(outcome for _, outcome, _ in results)
    by_category = collections.defaultdict(collections.Counter)
    for name, outcome, _ in results:
        by_category[CASES[name][0]][outcome] += 1
    print(f"\nfuzz: tried {len(results)}, " + ", ".join(f"{o} {counts[o]}" for o in OUTCOMES))
    for category, tally in sorted(by_category.items()):
        print(f"  {category}: " + ", ".join(f"{o} {n}" for o, n in sorted(tally.items())))
    Path("/tmp/fuzz-h2.txt").write_text("\n".join(f"{o} {t}" for _, o, t in results))
    bad = [text for _, outcome, text in results if outcome not in ("refused", "succeeded")]
    assert not bad, "\n".join(bad)
