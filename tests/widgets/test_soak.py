"""The PySide6 pin, proven: tens of thousands of paints on a real X server do not crash.

PySide6 6.12.0 on Python 3.11 dies (``Fatal Python error: none_dealloc``) after some tens of
thousands of QPainter calls (docs/ryven.md, pitfall 12); pyproject.toml keeps it below 6.10
there. This paints an example flow's view while zooming, and the deformation preview slice
by slice, in a process of its own (a crash is then a failed test, not a dead suite).
DICOMREG_SOAK=long paints ten times as often (40,000 paints).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

from conftest import ROOT

# 4,000 by default: on the shared CI machine (load ~10 on 2 cores) a paint of the preview
# costs about 10 ms and 20,000 did not end within 400 s; the long soak is for a quiet machine.
REPAINTS = 40_000 if os.environ.get("DICOMREG_SOAK") == "long" else 4_000

SCRIPT = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_API"] = "pyside6"
    from qtpy.QtWidgets import QApplication, QMainWindow
    app = QApplication([])
    assert app.platformName() == "xcb", app.platformName()
    from ryvencore_qt import SessionGUI
    from dicomreg.core import read_displacement_field
    from dicomreg.nodes.base import set_flow_directory
    from dicomreg.nodes.flows import execute, load_flow, register
    from dicomreg.widgets.deformation_preview import DeformationPreview
    root, repaints = sys.argv[1], int(sys.argv[2])
    window = QMainWindow()
    session_gui = SessionGUI(window)
    register(session_gui.core_session, gui=True)
    set_flow_directory(root + "/example_flows")
    flow = session_gui.core_session.load(load_flow(root + "/example_flows/load_and_dump.json"))
    execute(flow)
    view = session_gui.flow_views[flow[0]]
    window.setCentralWidget(view); window.resize(600, 400); window.show()
    preview = DeformationPreview(read_displacement_field(root + "/example_flows/data/field.mha"))
    preview.resize(480, 360); preview.show(); preview.wait_for_statistics()
    start = time.monotonic()
    for step in range(repaints // 2):
        zoom = 1.05 if (step // 40) % 2 == 0 else 1 / 1.05
        view.scale(zoom, zoom)
        view.viewport().repaint()
        if step % 20 == 0:  # a new slice now and then; every step paints it again
            preview.slider.setValue((step // 20) % (preview.slider.maximum() + 1))
        preview.canvas.repaint()
        if step % 200 == 0:
            preview.view.setCurrentIndex((step // 200) % 2)
            app.processEvents()
    print("PAINTED", repaints, round(time.monotonic() - start, 1))
    for item in view.node_items.values():
        item.animator.stop()
""")


def test_tens_of_thousands_of_paints_and_zooms_do_not_crash(real_display):
    started = time.monotonic()
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    completed = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT), str(REPAINTS)],
                               capture_output=True, text=True, env=env,
                               timeout=400 if REPAINTS == 4_000 else 4000)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"PAINTED {REPAINTS}" in completed.stdout
    assert "none_dealloc" not in completed.stderr
    print(completed.stdout.strip(), f"({time.monotonic() - started:.0f} s in all)")
