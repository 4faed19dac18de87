"""A person shows a DicomREGSave field as an input in ``dicomreg editor``'s window, in a
process of its own (Ryven's window is once per process). Prints one JSON line.

    python field_port_session.py build FLOW SAVED.json [SHOT.png]
        right-click the DicomREGSave node, choose "Show field as input...", search and
        pick Content Label; place a Value node (as Ryven's node list does); type its value
        in its inspector; drag its output onto the new port; F5; Ctrl+S in the flow view
        and answer Ryven's file dialog; then type a value the module refuses and read the
        node's body; drag the same output onto inputModifierList and read the body again.
    python field_port_session.py reload SAVED.json
        open the saved flow, F5, report the ports, the connection and the written file.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

from editor_session import wait  # noqa: E402  (the script's folder is on sys.path)
from qtpy.QtCore import QPoint, Qt, QTimer  # noqa: E402
from qtpy.QtGui import QContextMenuEvent  # noqa: E402
from qtpy.QtTest import QTest  # noqa: E402
from qtpy.QtWidgets import (  # noqa: E402
    QApplication,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QMenu,
)

from dicomreg.nodes.editor_window import open_editor  # noqa: E402
from dicomreg.nodes.gui import SHOW_FIELD  # noqa: E402
from dicomreg.widgets.field_picker import FieldPicker  # noqa: E402


def when(find, act, seconds: float = 20) -> QTimer:
    """Poll for a popup or dialog (``find`` returns it or None) while a modal loop runs,
    then ``act`` on it as a person would."""
    timer, end = QTimer(), time.monotonic() + seconds

    def poll() -> None:
        found = find()
        if found is not None:
            timer.stop()
            act(found)
        elif time.monotonic() > end:
            timer.stop()

    timer.timeout.connect(poll)
    timer.start(100)
    return timer


def opened(flow: Path):
    app, window = open_editor(flow)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    # the sources read, then (on the GUI thread) the flow updated and fitted
    wait(lambda: window.dicomreg.message.text().startswith("read the sources")
         and not window.dicomreg.task.running)
    QTest.qWait(300)
    view = next(iter(window.session_gui.flow_views.values()))
    return app, window, view


def item_of(view, title: str):
    return next(item for node, item in view.node_items.items() if node.title == title)


def at(view, graphics_item) -> QPoint:
    return view.mapFromScene(graphics_item.sceneBoundingRect().center())


def run_f5(window) -> str:
    QTest.keyClick(window, Qt.Key.Key_F5)
    wait(lambda: window.dicomreg.message.text().startswith("ran")
         and not window.dicomreg.task.running)
    return window.dicomreg.message.text()


def show_field(view, save_item, search: str) -> None:
    """Right-click the node's title, choose the menu entry, search the picker, press Enter."""
    def choose(menu: QMenu) -> None:
        action = next(a for a in menu.actions() if a.text() == SHOW_FIELD)
        QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())

    def pick(picker: FieldPicker) -> None:
        QTest.keyClicks(picker.search, search)
        QTest.keyClick(picker.search, Qt.Key.Key_Return)

    popup = when(lambda: QApplication.activePopupWidget(), choose)
    dialog = when(lambda: next((w for w in QApplication.topLevelWidgets()
                                if isinstance(w, FieldPicker) and w.isVisible()), None), pick)
    title = save_item.sceneBoundingRect()
    point = view.mapFromScene(title.center().x(), title.top() + 14)
    # A right click: the mouse moves there, and X11 sends the context-menu event on the
    # press (QTest's presses on a widget skip the window system, which would synthesize it).
    QTest.mouseMove(view.viewport(), point)
    QTest.qWait(100)
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, point, view.viewport().mapToGlobal(point)))
    wait(lambda: not popup.isActive() and not dialog.isActive(), 30)


def press(view, button, point: QPoint) -> None:
    """A person's click: the mouse comes to rest there, then presses and lets go (Ryven
    reads where the mouse last moved; QTest's one-call click does not move it)."""
    QTest.mouseMove(view.viewport(), point)
    QTest.qWait(100)
    QTest.mousePress(view.viewport(), button, pos=point)
    QTest.qWait(100)
    QTest.mouseRelease(view.viewport(), button, pos=point)


def place_value_node(window, view) -> object:
    """A Value node placed as Ryven's node list places it (``create_node__cmd``). Choosing it
    in the list with Enter crashes PySide6 6.11.3 inside the key event (a segfault in
    shiboken's override lookup while the view repaints); the same call outside it does
    not."""
    types = {t.title: t for t in window.session_gui.core_session.nodes}
    before = set(view.node_items)
    view.create_node__cmd(types["Value"])
    wait(lambda: len(view.node_items) > len(before), 10)
    (node,) = set(view.node_items) - before
    return node


def type_setting(view, item, name: str, text: str) -> None:
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(item.sceneBoundingRect().center().x(),
                                           item.sceneBoundingRect().top() + 14))
    edit = item.node_gui.inspector_widget.edits[name]
    wait(edit.isVisible, 10)
    QTest.mouseClick(edit, Qt.MouseButton.LeftButton)
    edit.selectAll()
    QTest.keyClicks(edit, text)
    QTest.keyClick(edit, Qt.Key.Key_Return)


def drag(view, source_pin, target_pin) -> None:
    start, end = at(view, source_pin), at(view, target_pin)
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 11):
        QTest.mouseMove(view.viewport(), start + (end - start) * step / 10)
        QTest.qWait(20)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)


def save_project(window, view, target: Path) -> None:
    """Ctrl+S with the focus in the flow view: Ryven's Save asks where, in its dialog."""
    def answer(dialog: QFileDialog) -> None:
        # A person types the name once the dialog has settled, then clicks Save: a name
        # selected at once was seen replaced by the dialog's own first filling.
        def type_and_save() -> None:
            name = dialog.findChild(QLineEdit, "fileNameEdit")  # the name as a person types it
            name.selectAll()
            QTest.keyClicks(name, str(target))
            QApplication.processEvents()
            QTest.mouseClick(dialog.findChild(QDialogButtonBox).button(
                QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)

        QTimer.singleShot(500, type_and_save)

    timer = when(lambda: next((w for w in QApplication.topLevelWidgets()
                               if isinstance(w, QFileDialog) and w.isVisible()), None), answer)
    view.setFocus()
    QTest.keyClick(view.viewport(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait(lambda: not timer.isActive() and target.exists(), 30)


def ports(node) -> dict:
    flow = node.flow
    return {"exposed": node.exposed_fields, "inputs": len(node.inputs),
            "fed_by": [getattr(flow.connected_output(p), "node", None) and
                       flow.connected_output(p).node.title for p in node.inputs]}


def build(flow: Path, saved: Path, shot: str | None) -> dict:
    app, window, view = opened(flow)
    save_item = item_of(view, "DicomREGSave")
    save = save_item.node
    show_field(view, save_item, "content label")
    report = {"after_menu": ports(save), "port_items": len(save_item.inputs)}
    value = place_value_node(window, view)
    value_item = view.node_items[value]
    type_setting(view, value_item, "value", "FROM_PORT")
    drag(view, value_item.outputs[0].pin, save_item.inputs[-1].pin)
    QTest.qWait(300)
    report["after_drag"] = ports(save)
    report["run"] = run_f5(window)
    report["written"] = save.written
    report["content_label"] = save.module.get("contentLabel")
    save_project(window, view, saved)
    type_setting(view, value_item, "value", "lower case")
    QTest.qWait(700)  # the body follows the status on a timer
    report["refused_status"] = save.status
    report["refused_body"] = save_item.node_gui.main_widget().text()
    # The same text wired to the modifiers' connector by mistake (Ryven lets any output
    # reach any input): the node says which connector and what it takes.
    drag(view, value_item.outputs[0].pin, save_item.inputs[3].pin)
    QTest.qWait(700)
    report["miswired_fed_by"] = ports(save)["fed_by"][3]
    report["miswired_body"] = save_item.node_gui.main_widget().text()
    if shot:
        window.grab().save(shot)
    window.close()
    app.quit()
    return report


def reload(saved: Path) -> dict:
    app, window, view = opened(saved)
    save = item_of(view, "DicomREGSave").node
    report = {"ports": ports(save), "run": run_f5(window), "written": save.written,
              "content_label": save.module.get("contentLabel"), "error": save.error}
    window.close()
    app.quit()
    return report


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "build":
        report = build(Path(args[0]), Path(args[1]), args[2] if len(args) > 2 else None)
    else:
        report = reload(Path(args[0]))
    print("REPORT " + json.dumps(report))


if __name__ == "__main__":
    main()
