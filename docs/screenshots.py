"""Screenshots for the documentation, taken offscreen with QWidget.grab().

    QT_QPA_PLATFORM=offscreen python docs/screenshots.py

Writes docs/flow_editor.png, the example flow with the modifier chain in the editor's flow
view after running it, and docs/editor.png, the whole editor as ``dicomreg editor FLOW``
opens it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "example_flows"


def flow_editor(name: str = "reg_with_modifiers.json") -> Path:
    """The flow view of an example flow, fitted to its nodes."""
    from qtpy.QtWidgets import QApplication, QMainWindow
    from ryvencore_qt import SessionGUI

    from dicomreg.nodes.base import set_flow_directory
    from dicomreg.nodes.flows import execute, load_flow, register

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp())
    shutil.copytree(EXAMPLES / "data", work / "data")
    (work / "out").mkdir()
    window = QMainWindow()
    session_gui = SessionGUI(window)
    session = register(session_gui.core_session, gui=True)
    set_flow_directory(work)
    flows = session.load(load_flow(EXAMPLES / name))
    view = session_gui.flow_views[flows[0]]
    window.setCentralWidget(view)
    window.resize(1100, 620)
    window.show()
    execute(flows)
    app.processEvents()
    items = list(view.node_items.values())
    bounds = items[0].sceneBoundingRect()
    for item in items[1:]:
        bounds = bounds.united(item.sceneBoundingRect())
    scale = min(1100 / (bounds.width() + 120), 620 / (bounds.height() + 120))
    view.resetTransform()
    view.scale(scale, scale)
    view.centerOn(bounds.center())
    app.processEvents()
    target = HERE / "flow_editor.png"
    view.grab().save(str(target))
    shutil.rmtree(work, ignore_errors=True)
    return target


def editor_window(name: str = "reg_from_field.json") -> Path:
    """The whole editor as ``dicomreg editor FLOW`` opens it, grabbed once it has shown."""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    from dicomreg.core.cli import main

    app = QApplication.instance() or QApplication([])
    target = HERE / "editor.png"

    def grab() -> None:
        windows = [w for w in app.topLevelWidgets() if w.isVisible() and w.width() > 400]
        windows[0].grab().save(str(target))
        app.quit()

    QTimer.singleShot(3000, grab)
    main(["editor", str(EXAMPLES / name)])
    return target


if __name__ == "__main__":
    import subprocess
    import sys

    if sys.argv[1:] == ["--editor"]:
        print(f"wrote {editor_window()}")
    else:
        print(f"wrote {flow_editor()}")
        # The editor wants an application of its own: in a process of its own.
        subprocess.run([sys.executable, __file__, "--editor"], check=True)
