"""Benchmark: how responsive the panel stays while it saves a 512x512x200 field.

    QT_QPA_PLATFORM=offscreen python bench/gui_stall.py

A timer asks the event loop for a tick every 5 ms while the panel saves in the background;
the longest gap between ticks is the longest time the GUI could not respond. For contrast,
the same save done on the GUI thread (what a naive panel would do) stalls it for the whole
save.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from common import CACHE, field_file, machine, settle  # noqa: E402


def main() -> None:
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    from dicomreg.core import DicomREGSave, read_displacement_field
    from dicomreg.widgets.panel import DicomREGSavePanel

    app = QApplication([])
    module = DicomREGSave()
    module.input0 = read_displacement_field(field_file((512, 512, 200)))
    grid = module.input0.geometry
    module.set_many({"frameOfReferenceUID": "1.2.3", "sourceFrameOfReferenceUID": "1.2.4",
                     "imagePositionPatient": grid.origin, "fileName": str(CACHE / "gui.dcm")})
    panel = DicomREGSavePanel(module)
    panel.show()
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    print(f"machine: {machine()}")
    for _ in range(3):
        settle()
        ticks.clear()
        started = time.perf_counter()
        task = panel.save_in_background()
        while task.running or panel.progress.isVisible():
            app.processEvents()
            time.sleep(0.001)
        seconds = time.perf_counter() - started
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        print(f"background save: {seconds:.2f} s, {len(ticks)} ticks, longest stall "
              f"{1000 * max(gaps):.0f} ms")
    settle()
    started = time.perf_counter()
    module.save()
    blocked = time.perf_counter() - started
    print(f"the same save on the GUI thread would stall it for {blocked:.2f} s")


if __name__ == "__main__":
    main()
