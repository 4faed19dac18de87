"""Screenshots for the documentation, taken with QWidget.grab() on a real X server.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots.py

Writes docs/flow_editor.png, the example flow with the modifier chain in the editor's flow
view after running it; docs/editor.png, the whole editor as ``dicomreg editor FLOW`` opens
it; docs/panel_lead.png, the panel's leading section; docs/panel.png, docs/tag_dump.png,
docs/preview_magnitude.png and docs/preview_jacobian.png, the panels on the sample data.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots.py --views

Writes docs/fused_view.png and docs/preview_underlay.png from the real editor window on an
X server: register_and_save.json opened, the FusedView node clicked (the fused view in the
inspector, checkerboard), then the Register node (its field over the fixed CT, the readout
under the mouse).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
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


def panels() -> list[Path]:
    """The module's panel after an inheritance, its tag dump tab, and the preview."""
    from qtpy.QtWidgets import QApplication

    from dicomreg.core import DicomREGSave, read_displacement_field
    from dicomreg.core.dicom import read_volume
    from dicomreg.widgets.deformation_preview import DeformationPreview
    from dicomreg.widgets.panel import DicomREGSavePanel

    app = QApplication.instance() or QApplication([])
    data = EXAMPLES / "data"
    module = DicomREGSave()
    module.input0 = read_displacement_field(data / "field.mha")
    module.input0.datasets = read_volume(data / "fixed").datasets
    module.input1 = read_volume(data / "moving")
    module.set("worldMatrixInheritanceSource", "IMAGE_INPUT")
    panel = DicomREGSavePanel(module)
    panel.resize(900, 860)
    panel.show()
    panel.trigger("inheritDICOMTags")
    app.processEvents()
    lead = panel.layout().itemAt(0).widget()
    lead.grab().save(str(HERE / "panel_lead.png"))
    written = [HERE / "panel_lead.png"]
    for tab, name in ((3, "panel.png"), (1, "tag_dump.png")):
        panel.tabs.setCurrentIndex(tab)
        if tab == 1:
            panel.dump_view.annotate.setChecked(True)
            panel.dump_view.filter.setText(".*(Patient|Frame|Grid|Study Instance).*")
        app.processEvents()
        panel.grab().save(str(HERE / name))
        written.append(HERE / name)
    preview = DeformationPreview(module.input0)
    preview.resize(820, 560)
    preview.show()
    preview.wait_for_statistics()
    for view, name in ((0, "preview_magnitude.png"), (1, "preview_jacobian.png")):
        preview.view.setCurrentIndex(view)
        app.processEvents()
        preview.grab().save(str(HERE / name))
        written.append(HERE / name)
    return written


def editor_window(name: str = "reg_from_field.json") -> Path:
    """The whole editor as ``dicomreg editor FLOW`` opens it, grabbed once it has shown."""
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    from dicomreg.core.cli.main import main

    app = QApplication.instance() or QApplication([])
    target = HERE / "editor.png"

    def grab() -> None:
        windows = [w for w in app.topLevelWidgets() if w.isVisible() and w.width() > 400]
        controls = getattr(windows[0], "dicomreg", None) if windows else None
        if controls is None or not controls.message.text().startswith("read the sources"):
            QTimer.singleShot(500, grab)  # the sources are read first, then the view fitted
            return
        QTimer.singleShot(800, lambda: (windows[0].grab().save(str(target)), app.quit()))

    QTimer.singleShot(1000, grab)
    main(["editor", str(EXAMPLES / name)])
    return target


def editor_views(name: str = "register_and_save.json") -> list[Path]:
    """The fused view and the preview with its underlay, clicked open in the editor."""
    from qtpy.QtCore import QPoint, Qt
    from qtpy.QtTest import QTest

    from dicomreg.nodes.editor_window import open_editor
    from dicomreg.widgets.tasks import wait_until

    def wait(condition) -> None:
        wait_until(condition, 300)

    work = Path(tempfile.mkdtemp())
    shutil.copytree(EXAMPLES / "data", work / "data")
    (work / "out").mkdir()
    shutil.copy(EXAMPLES / name, work / name)
    app, window = open_editor(work / name)
    window.resize(1580, 980)
    window.show()
    QTest.qWaitForWindowExposed(window)
    wait(lambda: not window.dicomreg.task.running)
    view = next(iter(window.session_gui.flow_views.values()))
    items = {node.title: item for node, item in view.node_items.items()}
    written = []
    for title, target in (("FusedView", "fused_view.png"), ("Register", "preview_underlay.png")):
        item = items[title]
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.mapFromScene(item.sceneBoundingRect().center()))
        inspector = item.node_gui.inspector_widget
        shown = getattr(inspector, "view", None) or inspector.preview
        wait(lambda s=shown: s.isVisible() and s.canvas.image is not None)
        if title == "Register":
            wait(lambda s=shown: s.folding is not None)
            canvas = shown.canvas
            QTest.mouseMove(canvas, QPoint(canvas.width() // 3, canvas.height() // 2))
        QTest.qWait(700)
        window.grab().save(str(HERE / target))
        written.append(HERE / target)
    window.close()
    app.quit()
    shutil.rmtree(work, ignore_errors=True)
    return written


if __name__ == "__main__":
    import subprocess
    import sys

    if sys.argv[1:] == ["--views"]:
        for path in editor_views():
            print(f"wrote {path}")
    elif sys.argv[1:] == ["--editor"]:
        print(f"wrote {editor_window()}")
    else:
        print(f"wrote {flow_editor()}")
        for path in panels():
            print(f"wrote {path}")
        # The editor wants an application of its own: in a process of its own.
        subprocess.run([sys.executable, __file__, "--editor"], check=True)
