"""Benchmark 5: the editor's peak memory with a large field, as a person uses it.

    python bench/editor_memory.py [--size 512x512x200] [--work /tmp/dicomreg_editor_memory]

A flow of one DisplacementField node reading a smooth float32 field (made once in
``--work``, outside the repository) is opened in ``dicomreg editor``'s window on a real X
server (Xvfb, started here unless ``DISPLAY`` is set); the sources are read on opening, the
node is clicked (its inspector shows the deformation preview), the preview's statistics
(the Jacobian of every voxel, the folding count) finish, and a slice is painted in each
plane. The child's own peak resident memory (``os.wait4``) is compared with the field's
bytes (target: at most the field + 300 MB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import machine, measure, smooth_field_file


def make_flow(work: Path, field: Path) -> Path:
    """A flow file with one DisplacementField node on ``field`` (made in a child, so that
    the measured process starts from nothing)."""
    flow = work / "field_only.json"
    subprocess.run([sys.executable, "-c", "\n".join([
        "from dicomreg.nodes.flows import new_session, save_flow",
        "session = new_session()",
        "types = {t.title: t for t in session.nodes}",
        "flow = session.create_flow('field_only')",
        "node = flow.create_node(types['DisplacementField'])",
        f"node.settings['fileName'] = {str(field)!r}",
        "node.position = (300, 150)",
        f"save_flow(session, {str(flow)!r})"])], check=True)
    return flow


def session(flow: str) -> None:
    """The child: the editor opened on ``flow``, the node clicked, the preview shown."""
    os.environ.setdefault("QT_API", "pyside6")
    from qtpy.QtCore import Qt
    from qtpy.QtTest import QTest

    from dicomreg.nodes.editor_window import open_editor
    from dicomreg.widgets.tasks import wait_until

    def wait(condition) -> None:
        wait_until(condition, 600)

    app, window = open_editor(flow)
    window.show()
    QTest.qWaitForWindowExposed(window)
    wait(lambda: not window.dicomreg.task.running)
    view = next(iter(window.session_gui.flow_views.values()))
    node, item = next(iter(view.node_items.items()))
    assert not node.error, node.error
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(item.sceneBoundingRect().center()))
    preview = item.node_gui.inspector_widget.preview
    wait(lambda: preview.isVisible() and preview.folding is not None)
    for plane in range(3):
        preview.axis.setCurrentIndex(plane)
        preview.canvas.repaint()
        QTest.qWait(100)
    print(f"shown: {preview.info.text()}")
    window.close()
    app.quit()


def start_xvfb() -> subprocess.Popen:
    """An X server of our own for the measured editor, on a free display number."""
    if shutil.which("Xvfb") is None:
        raise SystemExit("needs an X server: install xvfb (the README's apt line)")
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X{n}-lock").exists())
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1600x1000x24",
                               "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = f":{number}"
    time.sleep(1.5)
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="512x512x200")
    parser.add_argument("--work", default="/tmp/dicomreg_editor_memory")
    parser.add_argument("--session", help=argparse.SUPPRESS)  # the measured child
    args = parser.parse_args()
    if args.session:
        session(args.session)
        return
    size = tuple(int(n) for n in args.size.split("x"))
    work = Path(args.work)
    flow = make_flow(work, smooth_field_file(size, directory=work))
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    server = None if os.environ.get("DISPLAY") else start_xvfb()
    try:  # the editor itself is the measured child (not a wrapper around it and Xvfb)
        wall, peak = measure([sys.executable, __file__, "--session", str(flow)], repeat=1)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    field_mb = size[0] * size[1] * size[2] * 12 / 1e6
    print(f"machine: {machine()}; {args.size}")
    print("| field MB | wall s | editor peak MB | peak - field MB |")
    print("|---|---|---|---|")
    print(f"| {field_mb:.0f} | {wall:.1f} | {peak:.0f} | {peak - field_mb:.0f} |")


if __name__ == "__main__":
    main()
