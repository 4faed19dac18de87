"""Generated hostile field and transform files (hypothesis) through the real command line.

Each example is a file of one format drawn by :mod:`fuzz_strategies` (header fields, voxel
data cut or extended, compressed streams, claims against the file's size, special values),
saved with ``dicomreg save`` to an output that already holds a REG, in a worker process under
``RLIMIT_AS`` and a timeout (:mod:`fuzz_worker`). Each is judged on its own: a clean one-line
refusal (exit 1, one line of ours, no traceback, numpy's and ITK's text nowhere, the existing
REG intact, nothing else written, no temporary or partial left) or a success with a valid
REG. The damaged HDF5 transforms are run too, each read by dicomreg's bounded child first.

The examples are derandomized (the same on every run); ``DICOMREG_FUZZ=long`` draws twenty
times as many. The counts are printed at the end (``-s``) and kept in /tmp/fuzz-generated.txt.
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import SimpleITK as sitk
from conftest import make_case
from fuzz_strategies import damaged_hdf5, metaimage, nifti, nrrd, text_transform, vtk
from fuzz_worker import OUTCOMES, Worker, judge, snapshot
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

LONG = os.environ.get("DICOMREG_FUZZ") == "long"
SCALE = 20 if LONG else 1
TALLY: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


def _settings(examples: int):
    return settings(max_examples=examples * SCALE, deadline=None, derandomize=True,
                    database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):
    """A valid case, a REG written from it (the existing output), and HDF5 transforms."""
    folder = tmp_path_factory.mktemp("generated-base")
    valid = make_case(folder)
    valid.reg = folder / "reg.dcm"
    subprocess.run([sys.executable, "-m", "dicomreg.core.cli.main", "save", str(valid.field),
                    "--fixed", str(valid.fixed), "--moving", str(valid.moving), "-o",
                    str(valid.reg), "--no-dciodvfy"], check=True, capture_output=True)
    field = sitk.ReadImage(str(valid.field), sitk.sitkVectorFloat64)
    bspline = sitk.BSplineTransformInitializer(field, [2, 2, 2])
    valid.hdf5 = {}
    for name, transform in (("field", sitk.DisplacementFieldTransform(field)),
                            ("bspline", bspline),
                            ("composite", sitk.CompositeTransform(
                                [sitk.AffineTransform(3), bspline]))):
        sitk.WriteTransform(transform, str(folder / f"{name}.h5"))
        valid.hdf5[name] = (folder / f"{name}.h5").read_bytes()
    valid.scratch = folder
    return valid


@pytest.fixture(scope="module")
def worker():
    running = Worker(60 if LONG else 30)
    yield running
    running.stop()
    lines = [f"{family}: tried {sum(t.values())}, "
             + ", ".join(f"{o} {t[o]}" for o in OUTCOMES) for family, t in sorted(TALLY.items())]
    total = sum(TALLY.values(), collections.Counter())
    lines.append(f"generated: tried {sum(total.values())}, "
                 + ", ".join(f"{o} {total[o]}" for o in OUTCOMES))
    print("\n" + "\n".join(lines))
    Path("/tmp/fuzz-generated.txt").write_text("\n".join(lines) + "\n")


def run_generated(family: str, base: object, worker: Worker, suffix: str, content: bytes,
                  options: list[str]) -> None:
    """Write the file, save it over an existing REG, judge the outcome, tally it."""
    folder = Path(tempfile.mkdtemp(dir=base.scratch))
    try:
        out = folder / "out"
        out.mkdir()
        shutil.copyfile(base.reg, out / "reg.dcm")  # an existing REG: replaced or intact
        field = folder / f"field{suffix}"
        field.write_bytes(content)
        args = ["save", str(field), "--fixed", str(base.fixed), "--moving", str(base.moving),
                "-o", str(out / "reg.dcm"), "--no-dciodvfy", *options]
        before = snapshot(out)
        answer = worker.run(args, folder)
        outcome = judge("save", answer, out, before)
        TALLY[family][outcome] += 1
        event(outcome)
        if outcome not in ("refused", "succeeded"):  # kept to reproduce it by hand
            kept = base.scratch / "failures" / f"{family}-{len(content)}{suffix}"
            kept.parent.mkdir(exist_ok=True)
            shutil.copyfile(field, kept)
            raise AssertionError(f"{family} {kept} {options}: {outcome}, rc {answer.rc}:\n"
                                 f"{answer.stderr[-2000:]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _hdf5(base: object) -> st.SearchStrategy:
    return st.sampled_from(sorted(base.hdf5)).flatmap(
        lambda name: damaged_hdf5(base.hdf5[name]).map(lambda content: (".h5", content, [])))


# family -> (its strategy, given the base case; examples in the fixed mode)
FAMILIES = {"metaimage": (lambda base: metaimage(), 15), "nifti": (lambda base: nifti(), 15),
            "nrrd": (lambda base: nrrd(), 10), "vtk": (lambda base: vtk(), 8),
            "transform": (lambda base: text_transform(), 12), "hdf5": (_hdf5, 4)}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_generated_files_are_refused_in_one_line_or_give_a_valid_reg(base, worker, family):
    strategy, examples = FAMILIES[family]

    @_settings(examples)
    @given(drawn=strategy(base))
    def run(drawn: tuple[str, bytes, list[str]]) -> None:
        run_generated(family, base, worker, *drawn)

    run()
