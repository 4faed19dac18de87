"""A person places a node from the flow view's node list (the list Ryven opens on a right
click or Shift+P): the list opens, Enter places its first entry. Prints one REPORT line.

    python node_list_session.py FLOW [SEARCH]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

from qtpy.QtCore import QPoint, Qt  # noqa: E402
from qtpy.QtTest import QTest  # noqa: E402

from dicomreg.nodes.editor_window import open_editor  # noqa: E402
from dicomreg.widgets.tasks import wait_until  # noqa: E402


def main() -> None:
    app, window = open_editor(Path(sys.argv[1]))
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    wait_until(lambda: not window.dicomreg.task.running, 60)
    view = next(iter(window.session_gui.flow_views.values()))
    before = len(view.node_items)
    point = QPoint(60, view.viewport().height() - 80)
    QTest.mouseMove(view.viewport(), point)
    view.show_place_node_widget(point)  # what a right click on the empty view opens
    QTest.qWait(200)
    if len(sys.argv) > 2:
        QTest.keyClicks(view._node_list_widget.search_line_edit, sys.argv[2])
    QTest.keyClick(view._node_list_widget.search_line_edit, Qt.Key.Key_Return)
    QTest.qWait(500)
    print("REPORT " + json.dumps({"placed": len(view.node_items) - before}), flush=True)
    window.close()
    app.quit()


if __name__ == "__main__":
    main()
