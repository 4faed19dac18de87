"""A person's session in ``dicomreg editor``'s window, run in a process of its own (Ryven's
window is once per process): open FLOW, wait for the sources, click each DisplacementField
node until its preview shows the fixed image under the field, optionally grab the window,
press F5, then click into DicomREGSave's panel and press Ctrl+S. Prints one JSON line.

    python editor_session.py FLOW [SCREENSHOT.png]
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

from qtpy.QtCore import Qt  # noqa: E402
from qtpy.QtTest import QTest  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

from dicomreg.nodes.editor_window import open_editor  # noqa: E402
from dicomreg.widgets.tasks import wait_until  # noqa: E402


def wait(condition, seconds: float = 60) -> None:
    wait_until(condition, seconds)


def statuses(window) -> dict[str, str]:
    nodes = [n for f in window.session_gui.core_session.flows for n in f.nodes]
    return {f"{n.title}#{i}": n.status for i, n in enumerate(nodes)}


def main() -> None:
    flow, shot = Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None
    app, window = open_editor(flow)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    controls = window.dicomreg
    wait(lambda: not controls.task.running)
    QTest.qWait(600)  # the node bodies follow their status on a timer
    views = list(window.session_gui.flow_views.values())
    report = {"opened": statuses(window), "message": controls.message.text(),
              "bodies": [item.node_gui.main_widget().text() for v in views
                         for item in v.node_items.values()],
              "visible": all(v.viewport().rect().contains(v.mapFromScene(
                  item.sceneBoundingRect()).boundingRect()) for v in views
                  for item in v.node_items.values())}
    # Click each DisplacementField node: its inspector's preview shows the field at once
    # and the fixed image under it once its pixels are read (in a thread of their own).
    report["underlays"] = []
    for view in views:
        for node, item in view.node_items.items():
            if node.title != "DisplacementField" or node.payload(0) is None:
                continue
            QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                             pos=view.mapFromScene(item.sceneBoundingRect().center()))
            preview = item.node_gui.inspector_widget.preview
            wait(lambda p=preview: p.underlay is not None, 60)
            inspector = item.node_gui.inspector_widget
            # A failed read that arrives for a fixed image the node no longer has is not
            # shown; one for the current fixed image is.
            inspector._underlay_read((object(), None, "a stale problem"))
            stale = inspector.message.text()
            inspector._underlay_read((inspector._underlay_of, None, "the current problem"))
            report["underlays"].append({"shown": preview.show_underlay.isEnabled(),
                                        "size": list(preview.underlay.geometry.size),
                                        "stale": stale,
                                        "current": inspector.message.text()})
    if shot:
        window.grab().save(shot)
    QTest.keyClick(window, Qt.Key.Key_F5)
    wait(lambda: controls.message.text().startswith("ran") and not controls.task.running)
    report["run"] = controls.message.text()
    saves = [(v, node, item) for v in views for node, item in v.node_items.items()
             if node.title == "DicomREGSave" and node.written]
    report["f5"] = []
    for _view, node, _item in saves:
        kept = Path(node.written).with_suffix(".f5.dcm")
        shutil.copy(node.written, kept)
        report["f5"].append(str(kept))
    report["saved"] = []
    for view, node, item in saves:
        # Click the node (the inspector shows its panel), then into a field, then Ctrl+S.
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.mapFromScene(item.sceneBoundingRect().center()))
        panel = item.node_gui.inspector_widget.panel
        wait(panel.isVisible, 10)
        target = panel.editors["contentLabel"].edit
        target.setFocus()  # where a person's click leaves it (the scrolled tab may hide it)
        wait(lambda t=target: QApplication.focusWidget() is t, 10)
        before = Path(node.written).stat().st_mtime_ns
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_S,
                       Qt.KeyboardModifier.ControlModifier)
        wait(lambda p=panel: p.task is not None and not p.task.running, 60)
        wait(panel.tabs.isEnabled, 10)
        report["saved"].append({"path": node.written, "status": panel.status.text(),
                                "rewritten": Path(node.written).stat().st_mtime_ns != before})
    print("REPORT " + json.dumps(report))
    window.close()
    app.quit()


if __name__ == "__main__":
    main()
