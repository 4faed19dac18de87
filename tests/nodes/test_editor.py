"""The example flows in the editor (offscreen): opened, run, saved, reopened headless."""

from __future__ import annotations

import difflib
import re
import shutil

import pytest
from conftest import ROOT
from pydicom import dcmread

from dicomreg.core.dicom import tag_dump
from dicomreg.nodes.base import set_flow_directory
from dicomreg.nodes.flows import execute, load_flow, new_session, save_flow

FLOWS = ("reg_from_field.json", "reg_with_modifiers.json", "load_and_dump.json")
# What each save creates anew: instance and series UIDs, the moments of creation, and the
# file meta group's length, which follows the new SOP Instance UID's length (a generated UID
# has 36 to 39 digits after the root, so the length differs in about one save in ten).
_NEW_EACH_TIME = re.compile(r"Instance UID|Instance Creation|Content (Date|Time)|"
                            r"Series Instance UID|Media Storage SOP Instance|"
                            r"File Meta Information Group Length")


def comparable(path):
    return [line for line in tag_dump(dcmread(path)).splitlines()
            if not _NEW_EACH_TIME.search(line)]


def states(flows):
    """Every node's state (DicomREGSave's fields and overrides, the sources' settings)."""
    return [(node.title, node.get_state()) for flow in flows for node in flow.nodes]


@pytest.mark.parametrize("name", FLOWS)
def test_open_run_save_reopen(flow_window, tmp_path, name):
    shutil.copytree(ROOT / "example_flows" / "data", tmp_path / "data")
    (tmp_path / "out").mkdir()
    shutil.copy(ROOT / "example_flows" / name, tmp_path / name)
    window, session_gui = flow_window
    session = session_gui.core_session
    set_flow_directory(tmp_path)
    flows = session.load(load_flow(tmp_path / name))
    view = session_gui.flow_views[flows[0]]
    window.setCentralWidget(view)
    window.show()
    assert len(view.node_items) == len(flows[0].nodes) >= 2
    written, errors, dumps = execute(flows)
    assert errors == []
    if name != "load_and_dump.json":
        assert written
    outputs = [comparable(path) for path in written]
    saved = save_flow(session, tmp_path / f"saved_{name}")
    at_save = states(flows)

    # Reopened headless: the same field values, and, run again, the same output.
    reopened = new_session().load(load_flow(saved))
    assert states(reopened) == at_save
    again_written, again_errors, again_dumps = execute(reopened)
    assert again_errors == []
    again = [comparable(path) for path in again_written]
    for before, after in zip(outputs, again, strict=True):
        changed = list(difflib.unified_diff(before, after, lineterm="", n=0))
        assert not changed, "\n".join(changed)
    assert again_dumps == dumps


def test_the_editor_command_opens_the_flow(tmp_path):
    """``dicomreg editor FLOW`` in a process of its own: the window shows the flow's nodes."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from qtpy.QtCore import QTimer
        from qtpy.QtWidgets import QApplication
        app = QApplication([])

        def look():
            window = next(w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow")
            flows = window.session_gui.core_session.flows
            print("NODES", sorted(n.title for f in flows for n in f.nodes))
            app.quit()

        QTimer.singleShot(3000, look)
        from dicomreg.core.cli.main import main
        raise SystemExit(main(["editor", {str(ROOT / "example_flows" / "reg_from_field.json")!r}]))
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=120, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "NODES ['DicomImport', 'DicomImport', 'DicomREGSave', 'DisplacementField']" in \
        completed.stdout


def dumped(path, capsys):
    """``dicomreg dump`` of a file, without what each save creates anew."""
    from dicomreg.core.cli.main import main

    capsys.readouterr()
    assert main(["dump", str(path)]) == 0
    return [line for line in capsys.readouterr().out.splitlines()
            if not _NEW_EACH_TIME.search(line)]


def referenced_instances(path):
    """The SOP Instance UIDs a REG references, read with pydicom alone: those of the
    Referenced Image Sequence, and those of the Common Instance Reference Module."""
    ds = dcmread(path)
    image_sequence = [item.ReferencedSOPInstanceUID
                      for registration in ds.DeformableRegistrationSequence
                      for item in registration.get("ReferencedImageSequence", [])]
    common = [instance.ReferencedSOPInstanceUID
              for study in [ds, *ds.get("StudiesContainingOtherReferencedInstancesSequence", [])]
              for series in study.get("ReferencedSeriesSequence", [])
              for instance in series.ReferencedInstanceSequence]
    return image_sequence, common


@pytest.mark.parametrize("presses", [("save",), ("inheritDICOMTags", "save")])
@pytest.mark.parametrize("name", FLOWS[:2])
def test_the_panels_save_writes_what_dicomreg_run_writes(flow_window, qtbot, tmp_path, capsys,
                                                          name, presses):
    """Open a flow in the editor, press Save (or Inherit, then Save) in DicomREGSave's panel:
    the REG is the one ``dicomreg run`` writes from the same flow, and it references every
    instance of the moving series."""
    from dicomreg.core.cli.main import main
    from dicomreg.nodes.flows import update_sources

    for where in ("run", "editor"):
        shutil.copytree(ROOT / "example_flows" / "data", tmp_path / where / "data")
        (tmp_path / where / "out").mkdir()
        shutil.copy(ROOT / "example_flows" / name, tmp_path / where / name)
    assert main(["run", str(tmp_path / "run" / name), "--no-dciodvfy"]) == 0

    _window, session_gui = flow_window
    set_flow_directory(tmp_path / "editor")
    flow = session_gui.core_session.load(load_flow(tmp_path / "editor" / name))[0]
    update_sources(flow)  # what a person does by entering the sources' paths
    node = next(n for n in flow.nodes if n.title == "DicomREGSave")
    inspector = session_gui.flow_views[flow].node_items[node].node_gui.inspector_widget
    panel = getattr(inspector, "child", inspector).panel
    for button in presses:
        panel.buttons[button].click()
    qtbot.waitUntil(lambda: panel.task is not None and not panel.task.running, timeout=20000)
    qtbot.waitUntil(lambda: panel.tabs.isEnabled(), timeout=5000)

    written = name.replace(".json", ".dcm")
    from_editor, from_run = (tmp_path / where / "out" / written for where in ("editor", "run"))
    assert node.written == str(from_editor) and "saved" in panel.status.text()
    changed = list(difflib.unified_diff(dumped(from_run, capsys), dumped(from_editor, capsys),
                                        lineterm="", n=0))
    assert not changed, "\n".join(changed)
    moving = sorted(str(dcmread(p).SOPInstanceUID)
                    for p in (tmp_path / "editor" / "data" / "moving").iterdir())
    assert len(moving) == 12
    image_sequence, common = referenced_instances(from_editor)
    assert sorted(image_sequence) == moving
    assert moving == sorted(set(common) & set(moving))
    assert referenced_instances(from_run) == (image_sequence, common)
