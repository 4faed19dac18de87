"""The editor's window as ``dicomreg editor`` opens it: Ryven's, with what a person needs.

- **Run** (F5, in a Run menu and a toolbar): the flow is run as ``dicomreg run`` runs it
  (:func:`~dicomreg.nodes.flows.execute`), after the sources have read their files off the
  GUI thread.
- **Opening a flow reads its sources** at once, in the background, with a progress bar and
  Cancel in the status bar; each node shows on its body what it holds or its error
  (pitfall 14: Ryven computes nothing on opening); the view is fitted to the flow.
- **Ctrl+S** saves the REG when a DicomREGSave panel has the focus (the panel's own,
  widget-scoped shortcut), the project elsewhere (Ryven's): Ryven's window-wide Save
  shortcut is switched off while the focus is inside a panel, since two shortcuts of the
  same keys that both apply cancel each other (Qt calls them ambiguous; pitfall 11).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from qtpy.QtCore import QObject, Qt
from qtpy.QtGui import QAction, QKeySequence, QShortcut
from qtpy.QtWidgets import QApplication, QLabel, QProgressBar, QPushButton, QWidget

from dicomreg.widgets.panel import DicomREGSavePanel
from dicomreg.widgets.tasks import BackgroundTask

from .base import set_flow_directory
from .flows import PACKAGE_DIRECTORY, execute, load_flow, update_sources

__all__ = ["EditorControls", "fit_view", "open_editor"]


def open_editor(flow: str | os.PathLike[str] | None = None) -> tuple[Any, Any]:
    """Ryven's window with the node package, the flow (checked first) and the controls;
    returns the application and the window (None when Ryven refused, saying why)."""
    from ryven import run_ryven

    project_arg = []
    if flow:
        path = Path(flow).resolve()
        project = load_flow(path)  # refuses a harmful flow before Ryven unpickles anything
        set_flow_directory(path.parent, path)
        # `ryven -n PATH` crashes in 3.5.0; run_ryven with nodes=[...] does not. The checked
        # project is handed over as a file of its own, with the package found here.
        checked = Path(tempfile.mkdtemp()) / path.name
        checked.write_text(json.dumps(project), encoding="utf-8")
        project_arg = [str(checked)]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = run_ryven(*project_arg, qt_app=app, use_sysargs=False, show_dialog=False,
                       qt_api="pyside6", nodes=[str(PACKAGE_DIRECTORY)])
    if window is not None:
        window.dicomreg = EditorControls(window)
        window.dicomreg.read_sources()
    return app, window


def fit_view(view: Any, margin: float = 60.0) -> None:
    """Zoom and scroll a flow view so that every node is visible."""
    items = list(view.node_items.values())
    if not items:
        return
    bounds = items[0].sceneBoundingRect()
    for item in items[1:]:
        bounds = bounds.united(item.sceneBoundingRect())
    bounds.adjust(-margin, -margin, margin, margin)
    view.fitInView(bounds, Qt.AspectRatioMode.KeepAspectRatio)
    view.centerOn(bounds.center())


class EditorControls(QObject):
    """Run, the sources read on opening, the status bar and Ctrl+S, added to Ryven's window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.task: BackgroundTask | None = None
        self.run_action = QAction("Run flow", window)
        self.run_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.run_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.run_action.setToolTip("Read every source, then inherit, reference and save each "
                                   "DicomREGSave node, as dicomreg run does (F5)")
        self.run_action.triggered.connect(self.run)
        window.menuBar().addMenu("&Run").addAction(self.run_action)
        window.addToolBar("Run").addAction(self.run_action)
        self.message = QLabel("ready")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        bar = window.statusBar()
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        self._busy(False)
        self.project_save = [s for s in window.findChildren(QShortcut)
                             if s.key() == QKeySequence(QKeySequence.StandardKey.Save)
                             and panel_of(s.parent()) is None]
        QApplication.instance().focusChanged.connect(self._focus_changed)

    # --- Ctrl+S -----------------------------------------------------------------------------

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        in_panel = panel_of(new) is not None
        for shortcut in self.project_save:
            shortcut.setEnabled(not in_panel)

    # --- reading and running ----------------------------------------------------------------

    @property
    def flows(self) -> list:
        """The window's flows."""
        return list(self.window.session_gui.core_session.flows)

    def read_sources(self, then_run: bool = False) -> BackgroundTask | None:
        """Read every source node's files in the background (progress, Cancel), then update
        the flow on the GUI thread, fitted and showing each node's status; then run it if
        asked."""
        if self.task is not None and self.task.running:
            return None
        # Every node that reads files (a field source may have its fixed image connected).
        sources = [node for flow in self.flows for node in flow.nodes
                   if hasattr(node, "prepare")]
        self.task = BackgroundTask(lambda progress: _prepare(sources, progress), self)
        self.task.progressed.connect(lambda f: self.progress.setValue(int(100 * f)))
        self.task.done.connect(lambda _result: self._read(then_run))
        self.task.failed.connect(lambda _message: self._read(then_run))  # nodes say why
        self.task.cancelled.connect(lambda: self._ended("reading cancelled"))
        self.cancel_button.clicked.connect(self.task.cancel)
        self._busy(True)
        self.message.setText(f"reading {len(sources)} source(s)...")
        self.task.start()
        return self.task

    def run(self) -> None:
        """F5: read the sources, then run the flow as ``dicomreg run`` does."""
        self.read_sources(then_run=True)

    def _read(self, then_run: bool) -> None:
        written, errors = [], []
        if then_run:
            written, errors, _dumps = execute(self.flows)
        else:
            for flow in self.flows:
                flow.set_algorithm_mode(flow.algorithm_mode())  # pitfall 7
                update_sources(flow)
            errors = [f"{n.title}: {n.error}" for f in self.flows for n in f.nodes if n.error]
        for flow in self.flows:
            view = self.window.session_gui.flow_views.get(flow)
            if view is not None:
                fit_view(view)
        done = "ran the flow" if then_run else "read the sources"
        parts = [done, *(f"wrote {path}" for path in written), *errors]
        self._ended("; ".join(parts), error=bool(errors))

    def _ended(self, text: str, error: bool = False) -> None:
        self._busy(False)
        self.message.setText(text)
        try:
            self.cancel_button.clicked.disconnect()
        except (RuntimeError, TypeError):  # nothing connected
            pass

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.run_action.setEnabled(not busy)
        if busy:
            self.progress.setValue(0)


def panel_of(widget: QWidget | None) -> DicomREGSavePanel | None:
    """The DicomREGSave panel ``widget`` is in, or None."""
    while widget is not None and not isinstance(widget, DicomREGSavePanel):
        widget = widget.parentWidget()
    return widget


def _prepare(sources: list, progress: Any) -> None:
    """Each source's slow reading (``prepare``), with the overall fraction as progress; an
    error stays for the node's update to report."""
    from dicomreg.core.errors import DicomRegError
    from dicomreg.core.reg import SaveCancelledError

    share = 1.0 / max(1, len(sources))
    for index, node in enumerate(sources):

        def part(fraction: float, index: int = index) -> bool:
            return progress((index + fraction) * share)

        try:
            node.prepare(part)
        except DicomRegError:
            pass
        if not progress((index + 1) * share):
            raise SaveCancelledError("reading the sources was cancelled")
