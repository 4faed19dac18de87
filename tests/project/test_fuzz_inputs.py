"""Hostile inputs through the real command line: every one is refused in one line of ours
(exit 1, no traceback, nothing written) or gives a valid file, within a memory bound and a
wall-clock timeout.

The cases are the builders of :mod:`fuzz_cases` (field files of every format, DICOM sources,
values and modifiers, REGs with bad geometry), each run as ``dicomreg`` under ``RLIMIT_AS``
(a small file must not exhaust the machine) and a timeout (a hang is a failure): the
native-crash and hang categories each in a process of its own, the others many to a worker
process (:mod:`fuzz_worker`), judged one by one. The fixed mode runs a budget of them on two
workers; ``DICOMREG_FUZZ=long`` runs all of them, and the generated cases
(``test_fuzz_generated.py``) more examples. The counts of each outcome are printed at the
end (``-s``), for the record.
"""

from __future__ import annotations

import collections
import os
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ROOT, make_case
from fuzz_cases import CASES
from fuzz_worker import MEMORY_LIMIT, OUTCOMES, Answer, Worker, judge

LONG = os.environ.get("DICOMREG_FUZZ") == "long"
TIMEOUT = 60 if LONG else 25  # seconds; a hang is a failure
PYTHON = sys.executable
# The categories whose every case gets a process of its own, as a user's command would: the
# native-crash and the hang cases (a crash or a hang there must show as one, not as the
# failure of a worker's next case). The others run many to a worker, judged one by one.
OWN_PROCESS = {"transform", "special"}


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


def _own_process(args: list[str], folder: Path, env: dict[str, str]) -> Answer:
    full = {**os.environ, "PYTHONWARNINGS": "always"}
    full.pop("DICOMREG_MAX_FIELD_BYTES", None)  # only the case's own limit
    try:
        done = subprocess.run([PYTHON, "-m", "dicomreg.core.cli.main", *args], cwd=folder,
                              capture_output=True, text=True, errors="replace",
                              env={**full, **env},
                              timeout=TIMEOUT, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        return Answer(None, "", f"no answer in {TIMEOUT} s", "hang")
    return Answer(done.returncode, done.stdout, done.stderr,
                  "crash" if done.returncode < 0 else "")


def run_case(name: str, folder: Path, base: object, worker: Worker) -> tuple[str, str]:
    """Build and run one case: its outcome (one of ``OUTCOMES``) and what it printed."""
    category, builder = CASES[name]
    folder.mkdir()
    (folder / "out").mkdir()
    args = builder(folder, base)
    env = {}
    while "--env" in args:
        at = args.index("--env")
        key, _, value = args[at + 1].partition("=")
        env[key] = value
        del args[at : at + 2]
    answer = (_own_process(args, folder, env) if category in OWN_PROCESS
              else worker.run(args, folder, env))
    outcome = judge(args[0], answer, folder / "out", {})
    return outcome, f"{name}: rc {answer.rc}: " + answer.stderr.strip()[-600:]


ALWAYS = {"limits", "transform", "special"}  # the memory, native-crash and hang cases


def _budget() -> list[str]:
    """Every case in long mode; else those of ``ALWAYS`` and every third of the others (a
    fixed sample: the same cases on every run)."""
    names = sorted(CASES)
    if LONG:
        return names
    return [n for i, n in enumerate(names) if CASES[n][0] in ALWAYS or i % 3 == 0]


def test_every_hostile_input_is_refused_in_one_line_or_succeeds(base, tmp_path):
    names = _budget()
    halves = [names[0::2], names[1::2]]  # two workers, one per core

    def run_half(half: list[str]) -> list[tuple[str, str, str]]:
        worker = Worker(TIMEOUT)
        try:
            return [(n, *run_case(n, tmp_path / n, base, worker)) for n in half]
        finally:
            worker.stop()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = [r for half in pool.map(run_half, halves) for r in half]
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
