"""Atomic writing: no partial file at the target, an existing file intact, whatever happens."""

from __future__ import annotations

import csv
import errno
import os
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    HOSTILE_KINDS,
    ROOT,
    fuzz_examples,
    hostile_target,
    make_case,
    partials,
    snapshot,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dicomreg.core.cli.main import main
from dicomreg.core.formats import FIELD_SUFFIXES
from dicomreg.core.output import (
    DICOM_FILE,
    IMAGE_FILE,
    RYVEN_PROJECT,
    OutputPathError,
    atomic_output,
)
from dicomreg.core.reg import writer
from dicomreg.core.regsave.batch import RESULT_COLUMNS, RESULTS_TABLE

# A previous REG (a Part 10 file: the only kind a REG output replaces).
GOOD = b"\0" * 128 + b"DICM" + b"previous good content"


def save_args(case, target):
    return ["save", str(case.field), "--fixed", str(case.fixed), "--moving", str(case.moving),
            "-o", str(target), "--no-dciodvfy"]


def leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.startswith(".")]


def test_failure_while_streaming_the_vectors(case, tmp_path, monkeypatch, capsys):
    target = tmp_path / "out.dcm"
    target.write_bytes(GOOD)

    def half_then_fail(value, out, progress=None):
        out.write(b"\0" * 1000)
        raise OSError(errno.EIO, "simulated I/O error")

    monkeypatch.setattr(writer, "_stream_value", half_then_fail)
    assert main(save_args(case, target)) == 1
    assert "simulated I/O error" in capsys.readouterr().err
    assert target.read_bytes() == GOOD
    assert leftovers(tmp_path) == []


def test_full_disk(case, tmp_path, monkeypatch, capsys):
    target = tmp_path / "new.dcm"
    real_fsync = os.fsync

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    assert main(save_args(case, target)) == 1
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert "No space left on device" in capsys.readouterr().err
    assert not target.exists() and leftovers(tmp_path) == []


def test_killed_process_leaves_the_target_untouched(tmp_path):
    case = make_case(tmp_path)
    target = tmp_path / "out.dcm"
    target.write_bytes(GOOD)
    started = tmp_path / "started"
    # A save whose streaming stalls half way, until it is killed.
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from dicomreg.core.reg import writer
        from dicomreg.core.cli.main import main

        def stall(value, out, progress=None):
            out.write(b"\\0" * 4096)
            out.flush()
            Path({str(started)!r}).touch()
            time.sleep(60)

        writer._stream_value = stall
        main({save_args(case, target)!r})
    """)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert process.poll() is None, "the save ended before it was killed"
            assert time.monotonic() < deadline, "the save never started streaming"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert target.read_bytes() == GOOD
    # Only the hidden working directory of the killed write remains, never a partial target.
    assert all(name.startswith(".out.dcm.") and name.endswith(".partial")
               for name in leftovers(tmp_path))


def test_successful_write_replaces_and_has_normal_permissions(case, tmp_path):
    target = tmp_path / "out.dcm"
    target.write_bytes(GOOD)
    assert main(save_args(case, target)) == 0
    assert target.read_bytes()[128:132] == b"DICM"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stream_writes_exactly_the_float32_bytes(tmp_path, dtype):
    array = np.random.default_rng(3).standard_normal((5, 4, 3, 3)).astype(dtype)
    from dicomreg.core.reg import vector_grid_value

    with open(tmp_path / "raw", "wb") as out:
        written = writer._stream_value(vector_grid_value(array[::-1]), out)
    assert written == array.size * 4
    assert (tmp_path / "raw").read_bytes() == array[::-1].astype("<f4").tobytes()


def test_a_cancelled_save_leaves_no_file(tmp_path):
    from dicomreg.core import DicomREGSave, Geometry, Image
    from dicomreg.core.reg import SaveCancelledError

    module = DicomREGSave()
    vectors = np.zeros((40, 8, 8, 3), np.float32)
    module.input0 = Image(vectors, Geometry((8, 8, 40), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)))
    target = tmp_path / "cancelled.dcm"
    target.write_bytes(GOOD)
    module.set_many({"frameOfReferenceUID": "1.2.3", "sourceFrameOfReferenceUID": "1.2.4",
                     "fileName": str(target)})
    seen = []

    def cancel_half_way(fraction):
        seen.append(fraction)
        return fraction < 0.5

    writer._CHUNK_BYTES, saved = 8 * 8 * 3 * 4 * 4, writer._CHUNK_BYTES  # 4 slices a chunk
    try:
        with pytest.raises(SaveCancelledError, match="nothing was written"):
            module.save(progress=cancel_half_way)
    finally:
        writer._CHUNK_BYTES = saved
    assert seen and seen[-1] >= 0.5 and len(seen) < 10
    assert target.read_bytes() == GOOD and leftovers(tmp_path) == []
    assert "cancelled" in module.status


# --- the output rule: what an output may be, and what it may replace ---------------------------

def _write_through(target, replaces, content=b"new"):
    with atomic_output(target, replaces=replaces) as temporary:
        temporary.write_bytes(content)


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
def test_an_output_is_a_regular_file_or_nothing(tmp_path, kind):
    target = hostile_target(tmp_path, kind)
    before = snapshot(tmp_path)
    expected = {"fifo": "is a FIFO", "device": "is a character device", "socket": "is a socket",
                "link": "is a symbolic link", "dangling link": "is a symbolic link",
                "directory": "is a directory"}[kind]
    with pytest.raises(OutputPathError, match=expected) as refused:
        _write_through(target, DICOM_FILE)
    assert str(target) in str(refused.value) and "\n" not in str(refused.value)
    assert snapshot(tmp_path) == before and partials(tmp_path) == []


def test_a_path_with_a_nul_is_refused(tmp_path):
    with pytest.raises(OutputPathError, match="NUL"):
        _write_through(tmp_path / "a\0b.dcm", DICOM_FILE)
    assert list(tmp_path.iterdir()) == []


def _real_file(kind, path):
    """A genuine file of each kind, made by the library that owns the format, not by us."""
    import SimpleITK as sitk
    from pydicom import dcmread

    if kind == "dicom":
        dcmread(ROOT / "example_flows" / "data" / "sample_reg.dcm").save_as(path)
    elif kind == "flow":
        path.write_bytes((ROOT / "example_flows" / "reg_from_field.json").read_bytes())
    elif kind == "results":
        with open(path, "w", newline="") as handle:  # as the csv module writes a table
            csv.writer(handle).writerows([RESULT_COLUMNS, [2, "done", "x.dcm", "", 0.1, "", ""]])
    else:
        sitk.WriteImage(sitk.Image([4, 3, 2], sitk.sitkVectorFloat32, 3), str(path))


_KINDS = {"dicom": (".dcm", DICOM_FILE), "flow": (".json", RYVEN_PROJECT),
          "results": (".csv", RESULTS_TABLE),
          **{suffix: (suffix, IMAGE_FILE) for suffix in FIELD_SUFFIXES}}
# What a file of each kind starts with (the formats' own specifications).
_MAGIC = (b"DICM", b"NRRD", b"# vtk", b"\x1f\x8b", b"{", b"ObjectType", b"NDims", b"case,",
          struct.pack("<i", 348), struct.pack(">i", 348), struct.pack("<i", 540),
          struct.pack(">i", 540))


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_a_file_of_the_outputs_kind_is_replaced(tmp_path, kind):
    suffix, replaces = _KINDS[kind]
    target = tmp_path / f"existing{suffix}"
    _real_file(kind, target)
    _write_through(target, replaces, b"the new content")
    assert target.read_bytes() == b"the new content" and partials(tmp_path) == []


@settings(max_examples=fuzz_examples(60), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(_KINDS)), content=st.binary(max_size=600),
       preamble=st.booleans())
def test_anything_else_is_refused_and_left_byte_identical(tmp_path, kind, content, preamble):
    """Random contents, some behind a 128-byte preamble: what is not of the kind stays."""
    content = b"\0" * 128 + content if preamble else content
    assume(not any(magic in content[:200] for magic in _MAGIC))
    suffix, replaces = _KINDS[kind]
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    target = folder / f"existing{suffix}"
    target.write_bytes(content)
    with pytest.raises(OutputPathError, match="exists and is not .*only such a file is "
                                               "replaced") as refused:
        _write_through(target, replaces)
    assert str(target) in str(refused.value)
    assert target.read_bytes() == content and sorted(folder.iterdir()) == [target]


def test_a_headers_data_file_replaces_only_beside_a_replaced_header(tmp_path):
    import SimpleITK as sitk

    image = sitk.Image([4, 3, 2], sitk.sitkVectorFloat32, 3)
    keys = tmp_path / "field.raw"
    keys.write_bytes(b"ssh-rsa AAAA someone's key")  # no field.mhd here: the .raw is not ours
    with pytest.raises(OutputPathError, match="also writes .*field.raw"):
        with atomic_output(tmp_path / "field.mhd", replaces=IMAGE_FILE) as temporary:
            sitk.WriteImage(image, str(temporary))
    assert keys.read_bytes() == b"ssh-rsa AAAA someone's key"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["field.raw"]
    keys.unlink()
    for _ in range(2):  # a pair written, then replaced as a pair
        with atomic_output(tmp_path / "field.mhd", replaces=IMAGE_FILE) as temporary:
            sitk.WriteImage(image, str(temporary))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["field.mhd", "field.raw"]


# --- partials of killed writers ---------------------------------------------------------------

def _partial_of_a_process(folder, *, stay=False):
    """A partial made by another process, which then exits (or stays alive)."""
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from dicomreg.core.output import make_partial
        print(make_partial(Path({str(folder / "out.dcm")!r})), flush=True)
        if {stay!r}:
            time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                               text=True)
    name = Path(process.stdout.readline().strip())
    (name / "out.dcm").write_bytes(b"\0" * 1000)
    if not stay:
        process.wait(timeout=30)
    return name, process


def test_a_later_write_removes_the_partials_of_dead_writers_only(tmp_path):
    dead, _ = _partial_of_a_process(tmp_path)
    alive, sleeper = _partial_of_a_process(tmp_path, stay=True)
    try:
        tag = dead.name.split(".")[-3]  # .out.dcm.HOSTBOOT-PID-START.RANDOM.partial
        elsewhere = tmp_path / f".out.dcm.0badc0de{tag[8:]}.abcdefgh.partial"
        elsewhere.mkdir()  # the same dead process id, on another machine (a shared folder)
        old_kind = tmp_path / ".out.dcm.k2j3h4g5.partial"
        old_kind.mkdir()  # the earlier scheme's: its writer cannot be known
        not_a_dir = tmp_path / ".notes.0000000000000000-1-1.abcdefgh.partial"
        not_a_dir.write_text("a file, not ours")
        _write_through(tmp_path / "out.dcm", DICOM_FILE, GOOD)
        left = {p.name for p in tmp_path.iterdir() if p.name.startswith(".")}
        assert left == {alive.name, elsewhere.name, old_kind.name, not_a_dir.name}
        assert (alive / "out.dcm").exists()  # a live writer's partial is never touched
    finally:
        sleeper.kill()
        sleeper.wait()
    _write_through(tmp_path / "out.dcm", DICOM_FILE, GOOD)  # now its writer is gone too
    assert not alive.exists() and elsewhere.exists()


def _big_field(folder, megabytes):
    import SimpleITK as sitk

    slices = max(1, int(megabytes * 1e6 / (256 * 256 * 12)))
    vectors = np.random.default_rng(1).standard_normal((slices, 256, 256, 3)).astype(np.float32)
    path = folder / "big.mha"
    sitk.WriteImage(sitk.GetImageFromArray(vectors, isVector=True), str(path))
    return path, vectors.nbytes


def _complete_reg(path, vector_bytes):
    from pydicom import dcmread

    ds = dcmread(path)
    grid = ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]
    return len(grid.VectorGridData) == vector_bytes


def test_kill_9_at_random_moments_leaves_nothing_after_the_next_save(tmp_path):
    """Saves of a ~100 MB field killed at random moments, then one more save: no partial
    left, and the target, whenever it exists, a complete REG (DICOMREG_FUZZ=long: 30)."""
    import random

    kills = 30 if os.environ.get("DICOMREG_FUZZ") == "long" else 6
    field, vector_bytes = _big_field(tmp_path, 100)
    target = tmp_path / "out.dcm"
    command = [sys.executable, "-m", "dicomreg.core.cli.main", "save", str(field), "-o",
               str(target), "--no-dciodvfy", "--set", "frameOfReferenceUID=1.2.3",
               "--set", "sourceFrameOfReferenceUID=1.2.4"]
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    duration = time.monotonic() - started
    target.unlink()
    rng = random.Random(20260105)
    for _ in range(kills):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(rng.uniform(0.0, duration))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert not target.exists() or _complete_reg(target, vector_bytes)
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
    assert partials(tmp_path) == [] and _complete_reg(target, vector_bytes)
