"""Atomic writing: no partial file at the target, an existing file intact, whatever happens."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import ROOT, make_case

from dicomreg.core.cli.main import main
from dicomreg.core.reg import writer

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
