"""What users of such tools expect of the command line: every problem listed, progress on a
terminal only, --quiet, -o DIR, and a conflict of -o with --set fileName refused."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from conftest import ROOT, make_case
from pydicom import dcmread

from dicomreg.core.cli.main import main

DICOMREG = [sys.executable, "-m", "dicomreg.core.cli.main"]


def test_output_directory_gets_reg_named_by_its_sop_instance_uid(tmp_path, capsys):
    case = make_case(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", f"{out_dir}/",
                 "--no-dciodvfy"]) == 0
    (written,) = out_dir.iterdir()
    assert written.name == f"REG_{dcmread(written).SOPInstanceUID}.dcm"
    assert f"wrote {written} " in capsys.readouterr().out


def test_a_missing_output_directory_is_refused(tmp_path, capsys):
    case = make_case(tmp_path)
    assert main(["save", str(case.field), "-o", f"{tmp_path}/nowhere/", "--no-dciodvfy"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "names a directory that does not exist" in err[0]


def test_set_file_name_with_output_is_refused_in_one_line(tmp_path, capsys):
    case = make_case(tmp_path)
    assert main(["save", str(case.field), "-o", str(tmp_path / "a.dcm"), "--no-dciodvfy",
                 "--set", f"fileName={tmp_path / 'b.dcm'}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--set fileName conflicts with the output option" in err[0]
    assert not list(tmp_path.glob("*.dcm"))


def test_a_single_problem_stays_one_line(tmp_path, capsys):
    case = make_case(tmp_path)
    assert main(["save", str(case.field), "-o", str(tmp_path / "a.dcm"), "--no-dciodvfy",
                 "--set", "numVolumes=2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["dicomreg save: error: numVolumes: is an output of the module (read-only); "
                   "it is set by the module, not by hand"]


def _save_command(case, out):
    return [*DICOMREG, "save", str(case.field), "--fixed", str(case.fixed), "-o", str(out),
            "--no-dciodvfy"]


def _run_on_a_terminal(command):
    """stderr on a pseudo-terminal (stdout on a pipe); what the terminal showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, cwd=ROOT)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process ended
            break
        if not chunk:
            break
        shown += chunk
    process.communicate()
    os.close(leader)
    return process.returncode, shown.decode(errors="replace")


def test_progress_shows_on_a_terminal_and_not_on_a_pipe(tmp_path):
    case = make_case(tmp_path)
    status, shown = _run_on_a_terminal(_save_command(case, tmp_path / "t.dcm"))
    assert status == 0 and "writing the REG" in shown and "%|" in shown, repr(shown)
    piped = subprocess.run(_save_command(case, tmp_path / "p.dcm"), capture_output=True,
                           text=True, cwd=ROOT)
    assert piped.returncode == 0 and piped.stderr == ""
    status, shown = _run_on_a_terminal([*_save_command(case, tmp_path / "q.dcm"), "--quiet"])
    assert status == 0 and "writing the REG" not in shown


def test_quiet_silences_notes(tmp_path, capsys):
    case = make_case(tmp_path)
    args = ["save", str(case.field), "--fixed", str(case.fixed), "--no-dciodvfy"]
    assert main([*args, "-o", str(tmp_path / "a.dcm")]) == 0
    assert "note:" in capsys.readouterr().out  # no --moving: a note says so
    assert main([*args, "-o", str(tmp_path / "b.dcm"), "--quiet"]) == 0
    assert "note:" not in capsys.readouterr().out


def test_max_field_size_ends_with_its_command(tmp_path, capsys):
    """One command's --max-field-size must not stay the limit of the next main() in the
    same process (tests, a batch worker, a program embedding dicomreg)."""
    from dicomreg.core.input import max_field_bytes

    before = max_field_bytes()
    case = make_case(tmp_path, size=(12, 10, 6))
    out = tmp_path / "out.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy", "--max-field-size", "1KB"]) == 1
    assert "more than the limit of 1.0 KB" in capsys.readouterr().err
    assert max_field_bytes() == before
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy"]) == 0  # the next command has the default limit again
    assert out.is_file()
