"""``dicomreg editor``'s window as a person uses it, on a real X server (Xvfb).

Each example flow is opened in the window ``dicomreg editor`` builds (``open_editor``, in a
process of its own: Ryven's window is once per process) by ``editor_session.py``: the
sources are read on opening, each node's body says what it holds, every node is in view;
F5 runs the flow; Ctrl+S in DicomREGSave's panel saves the REG. Both REGs are compared with
``dicomreg run``'s of the same flow.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT
from pydicom import dcmread
from test_editor import FLOWS, dumped

SESSION = Path(__file__).with_name("editor_session.py")


def person_session(flow: Path, shot: Path | None = None) -> dict:
    """Run editor_session.py on FLOW under this session's X server; its report."""
    return session_report(SESSION, [flow, *([shot] if shot else [])], flow.parent)


def session_report(script: Path, args: list, cwd: Path) -> dict:
    """Run a person's session script in a process of its own (Ryven's window is once per
    process) under this session's X server; the JSON of its REPORT line."""
    assert os.environ.get("DISPLAY"), "needs the X server pytest-xvfb starts"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "QT_API": "pyside6"}
    completed = subprocess.run([sys.executable, str(script), *map(str, args)],
                               capture_output=True, text=True, timeout=240, env=env, cwd=cwd)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("REPORT ")]
    assert completed.returncode == 0 and lines, completed.stderr[-3000:]
    return json.loads(lines[-1][len("REPORT "):])


def copy_example(where: Path, name: str) -> Path:
    shutil.copytree(ROOT / "example_flows" / "data", where / "data")
    (where / "out").mkdir()
    shutil.copy(ROOT / "example_flows" / name, where / name)
    return where / name


# register_and_save.json too: the registration's reruns are bit-identical, so F5's REG and
# dicomreg run's agree to the last bit of the grid.
@pytest.mark.parametrize("name", (*FLOWS, "register_and_save.json"))
def test_f5_and_ctrl_s_write_what_dicomreg_run_writes(tmp_path, capsys, name):
    from dicomreg.core.cli.main import main

    run_flow = copy_example(tmp_path / "run", name)
    assert main(["run", str(run_flow), "--no-dciodvfy"]) == 0
    shot = tmp_path / "opened.png"
    report = person_session(copy_example(tmp_path / "editor", name), shot)

    # Opening computed: every source says what it holds, none is left unread; all in view.
    assert report["message"] == "read the sources", report
    assert all(status and not status.startswith("error") for title, status in
               report["opened"].items() if not title.startswith("DicomREGSave")), report
    assert "not read yet" not in report["bodies"] and report["visible"], report
    assert shot.stat().st_size > 10_000
    # A field's preview shows the fixed image under it (read off the GUI thread).
    for underlay in report["underlays"]:
        assert underlay["shown"] and len(underlay["size"]) == 3, report["underlays"]
        assert "stale" not in underlay["stale"], underlay
        assert underlay["current"] == "fixed image: the current problem", underlay
    if name == "reg_from_field.json":
        assert len(report["underlays"]) == 1, report

    assert report["run"].startswith("ran the flow"), report
    written = sorted((tmp_path / "run" / "out").glob("*.dcm"))
    assert len(report["f5"]) == len(report["saved"]) == len(written)
    for expected, f5, saved in zip(written, report["f5"], report["saved"], strict=True):
        assert saved["rewritten"] and saved["status"].startswith("saved"), saved
        reference = dumped(expected, capsys)
        for path in (f5, saved["path"]):
            changed = list(difflib.unified_diff(reference, dumped(path, capsys),
                                                lineterm="", n=0))
            assert not changed, "\n".join(changed)


def test_opening_a_flow_shows_each_sources_error_without_a_click(tmp_path):
    flow = copy_example(tmp_path, "reg_from_field.json")
    shutil.rmtree(tmp_path / "data" / "moving")
    report = person_session(flow)
    errors = [status for status in report["opened"].values() if status.startswith("error")]
    assert len(errors) == 1 and "moving" in errors[0], report["opened"]
    assert any(body.startswith("error") for body in report["bodies"])
    assert "DicomImport" in report["message"], report["message"]


def test_a_field_shown_as_input_from_the_nodes_menu_is_wired_run_saved_and_reloaded(
        tmp_path):
    """Issue #15's field connections as a person makes them in the editor's window."""
    script = Path(__file__).with_name("field_port_session.py")
    flow, saved = copy_example(tmp_path, "reg_from_field.json"), tmp_path / "saved.json"
    built = session_report(script, ["build", flow, saved], tmp_path)
    # The menu's entry and the picker made the port (after the four connectors) ...
    assert built["after_menu"]["exposed"] == ["contentLabel"], built
    assert built["after_menu"]["inputs"] == built["port_items"] == 5
    # ... the dragged wire feeds it from the Value node, and F5 applied it as --set does.
    assert built["after_drag"]["fed_by"][4] == "Value", built
    assert built["run"].startswith("ran the flow; wrote"), built
    assert dcmread(built["written"]).ContentLabel == "FROM_PORT"  # pydicom reads the REG
    # A value the module refuses is the node's error, on its body too.
    for shown in (built["refused_status"], built["refused_body"]):
        assert shown.startswith("error: input contentLabel: contentLabel: 'lower case'"), shown
    # Wired by mistake to the modifiers' connector: the body names it and what it takes.
    assert built["miswired_fed_by"] == "Value", built
    assert built["miswired_body"].startswith(
        "error: inputModifierList: a str is not a list of modifier plugins"), built
    # Ctrl+S saved the project; reopened, the port and its connection are there and run.
    assert "contentLabel" in saved.read_text(encoding="utf-8")
    Path(built["written"]).unlink()
    again = session_report(script, ["reload", saved], tmp_path)
    assert again["ports"]["exposed"] == ["contentLabel"], again
    assert again["ports"]["fed_by"][4] == "Value" and not again["error"], again
    assert again["run"].startswith("ran the flow; wrote"), again
    assert dcmread(again["written"]).ContentLabel == "FROM_PORT"


def editor_launch(env_changes: dict, prelude: str = "") -> subprocess.CompletedProcess:
    """``dicomreg editor`` in a process with the environment changed (None removes)."""
    env = {k: v for k, v in os.environ.items() if k not in env_changes}
    env.update({k: v for k, v in env_changes.items() if v is not None})
    script = (prelude + "\nfrom dicomreg.core.cli.main import main"
              "\nraise SystemExit(main(['editor']))")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=env)


def one_line_error(completed: subprocess.CompletedProcess) -> str:
    lines = completed.stderr.strip().splitlines()
    assert completed.returncode == 1 and len(lines) == 1, completed.stderr[-2000:]
    assert lines[0].startswith("dicomreg editor: error: ")
    return lines[0]


def test_no_display_is_one_line_with_the_fix():
    line = one_line_error(editor_launch({"DISPLAY": None, "WAYLAND_DISPLAY": None,
                                         "QT_QPA_PLATFORM": None}))
    assert "no display" in line and "xvfb-run" in line


def test_a_missing_xcb_library_is_one_line_with_the_apt_line():
    prelude = ("import ctypes.util\n_find = ctypes.util.find_library\n"
               "ctypes.util.find_library = lambda n: None if n == 'xcb-cursor' else _find(n)")
    line = one_line_error(editor_launch({"QT_QPA_PLATFORM": "xcb"}, prelude))
    assert line.endswith("apt-get install -y libxcb-cursor0"), line


def test_no_qt_binding_is_one_line_with_the_extra():
    prelude = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("PySide6", "shiboken6"):
                    raise ImportError("No module named " + repr(name), name=name)
        sys.meta_path.insert(0, Block())
    """)
    line = one_line_error(editor_launch({}, prelude))
    assert "pip install 'ryven-dicomreg[gui]'" in line, line


def test_a_node_placed_from_the_node_list_with_enter(tmp_path):
    """The flow view's node list opened, Enter: the node is placed and painted. PySide6 from
    6.10 segfaults here under Ryven 3.5 (any node placed in view; see pyproject.toml)."""
    flow = copy_example(tmp_path, "reg_from_field.json")
    report = session_report(Path(__file__).with_name("node_list_session.py"), [flow],
                            flow.parent)
    assert report["placed"] == 1
