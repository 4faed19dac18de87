"""The DicomREGSave panel: every visible field, generated from the field table.

One tab per group of the table (inheritance input, tag dump, save, patient, study, series,
frame of reference and equipment, content, registration, referenced images, common instance
reference); each field as the editor of its type; each trigger as a button in its group and
the main ones in the top bar (Inherit: Ctrl+R, Save: Ctrl+S). A value is checked as it is
typed and marked with the rule it breaks; after an inheritance the fields it changed are
marked, and Undo Inheritance is one click. Save runs the module's run sequence (inherit,
reference, re-apply the values set by hand, save: what ``dicomreg run`` does) off the GUI
thread, with a progress bar and a cancel button. It needs the core and qtpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtGui import QKeySequence, QShortcut
from qtpy.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dicomreg.core.dicom import DumpOptions
from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import (
    FIELDS,
    GROUPS,
    FieldType,
    FieldValueError,
    field_by_name,
    parse,
)
from dicomreg.core.regsave import DicomREGSave, RunResult

from .field_editors import FieldEditor, editor_for
from .tag_dump_view import TagDumpView
from .tasks import BackgroundTask

__all__ = ["DicomREGSavePanel"]

_TOP_TRIGGERS = ("inheritDICOMTags", "undoInheritance", "save")
_SHORTCUTS = {"inheritDICOMTags": "Ctrl+R", "save": "Ctrl+S"}


class DicomREGSavePanel(QWidget):
    """The module's panel.

    Parameters
    ----------
    module
        The headless module it shows and edits.
    fire
        How a trigger is fired (a node's, to keep its outputs in step); the module's own
        ``trigger`` by default.
    set_field
        How a field is set (a node's, to keep its outputs in step); by default the module's
        ``set``, remembering the value as set by hand, for a run to re-apply.
    on_saved
        Called with the written path after a background save.
    """

    def __init__(self, module: DicomREGSave, fire: Callable[[str], Any] | None = None,
                 set_field: Callable[[str, Any], None] | None = None,
                 on_saved: Callable[[Path], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.module = module
        self._fire = fire or module.trigger
        self._set = set_field or (lambda name, value: module.set(name, value, by_hand=True))
        self._on_saved = on_saved
        self.editors: dict[str, FieldEditor] = {}
        self.buttons: dict[str, QPushButton] = {}
        self.task: BackgroundTask | None = None

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        for name in _TOP_TRIGGERS:
            button = self._trigger_button(name)
            top.addWidget(button)
            self.buttons.setdefault(name, button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addStretch()
        layout.addLayout(top)

        self.tabs = QTabWidget()
        for group in GROUPS:
            self.tabs.addTab(self._group_tab(group), group[0].upper() + group[1:])
        layout.addWidget(self.tabs, 1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        # Scoped to the panel: inside a window that owns the same keys (Ryven's Ctrl+S saves
        # the project) the panel's win while it has the focus, the window's elsewhere.
        self.shortcuts: dict[str, QShortcut] = {}
        for name, keys in _SHORTCUTS.items():
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda n=name: self.trigger(n))
            self.shortcuts[name] = shortcut
        self.refresh()

    # --- building ---------------------------------------------------------------------------

    def _trigger_button(self, name: str) -> QPushButton:
        field = field_by_name(name)
        shortcut = f"  [{_SHORTCUTS[name]}]" if name in _SHORTCUTS else ""
        title = field.title.replace(" (CTRL+R)", "").replace(" (Ctrl+S)", "")
        button = QPushButton(f"{title} ({_SHORTCUTS[name]})" if name in _SHORTCUTS else title)
        button.setToolTip(f"{field.name}: {field.description}{shortcut}")
        button.clicked.connect(lambda _=False, n=name: self.trigger(n))
        return button

    def _group_tab(self, group: str) -> QWidget:
        if group == "tag dump":
            self.dump_view = TagDumpView(self._dump, self._dump_options())
            self.dump_view.options_changed.connect(self._dump_options_changed)
            return self.dump_view
        form = QFormLayout()
        for field in (f for f in FIELDS if f.group == group):
            if field.type is FieldType.TRIGGER:
                if field.name not in _TOP_TRIGGERS:
                    button = self._trigger_button(field.name)
                    self.buttons[field.name] = button
                    form.addRow("", button)
                continue
            editor = editor_for(field)
            editor.edited.connect(lambda text, n=field.name: self._edited(n, text))
            editor.typing.connect(lambda text, n=field.name: self._typing(n, text))
            if not field.persistent:
                editor.set_editable(False)
            self.editors[field.name] = editor
            label = QLabel(field.title)
            label.setToolTip(field.name)
            form.addRow(label, editor)
        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        return scroll

    # --- showing ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the module's values, the editability that follows from them, the status."""
        for name, editor in self.editors.items():
            if editor.problem is None:  # a value being corrected stays as typed
                editor.set_text(self.module.text(name))
            declared = field_by_name(name)
            if declared.sensitive_when is not None:
                # Greyed while it has no effect (the table's sensitive_when: File Name while
                # Input Selector is not File, a String twin while its enum is not User
                # Defined).
                editor.set_editable(declared.is_sensitive(self.module.values()))
        self.dump_view.refresh()
        self.show_status(self.module.status)

    def show_status(self, text: str, error: bool = False) -> None:
        """The status line."""
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

    # --- editing ----------------------------------------------------------------------------

    def _edited(self, name: str, text: str) -> None:
        editor = self.editors[name]
        try:
            self._set(name, text)
        except DicomRegError as error:  # a value's rule, or a rule between fields
            editor.set_problem(str(error))
            self.show_status(str(error), error=True)
            return
        editor.set_problem(None)
        editor.set_marked(False)
        self.refresh()

    def _typing(self, name: str, text: str) -> None:
        problem = self.check(name, text)
        self.editors[name].set_problem(problem)
        if problem:
            self.show_status(problem, error=True)

    def check(self, name: str, text: str) -> str | None:
        """The rule ``text`` breaks for the field, or None (no field is changed)."""
        try:
            parse(field_by_name(name), text)
        except FieldValueError as error:
            return str(error)
        return None

    def trigger(self, name: str) -> None:
        """Fire a trigger; Save runs in the background."""
        if self.task is not None and self.task.running:
            return
        if name == "save":
            self.save_in_background()
            return
        try:
            result = self._fire(name)
        except DicomRegError as error:
            self.show_status(str(error), error=True)
            return
        changed = set(result.changes) if name == "inheritDICOMTags" and result else set()
        for field_name, editor in self.editors.items():
            if name in ("inheritDICOMTags", "undoInheritance"):
                editor.set_marked(field_name in changed)
            editor.set_problem(None)
        self.refresh()
        if changed:
            self.show_status(f"inherited {len(changed)} field(s), marked; Undo Inheritance "
                             "restores them")

    # --- saving off the GUI thread ----------------------------------------------------------

    def save_in_background(self) -> BackgroundTask:
        """Run the module's run sequence (as ``dicomreg run``) with a progress bar and a cancel
        button; the panel stays responsive."""
        self.task = BackgroundTask(lambda progress: self.module.run(progress=progress), self)
        self.task.progressed.connect(lambda f: self.progress.setValue(int(f * 100)))
        self.task.done.connect(self._saved)
        self.task.failed.connect(lambda message: self._ended(message, error=True))
        self.task.cancelled.connect(lambda: self._ended("save cancelled; nothing was written"))
        self.tabs.setEnabled(False)
        for button in self.buttons.values():
            button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.task.start()
        return self.task

    def cancel(self) -> None:
        """Cancel a save under way (it leaves no file)."""
        if self.task is not None:
            self.task.cancel()

    def _saved(self, result: RunResult) -> None:
        if result.path is not None and self._on_saved is not None:
            self._on_saved(result.path)
        self._ended("; ".join([self.module.status, *result.warnings]))

    def _ended(self, message: str, error: bool = False) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.tabs.setEnabled(True)
        for button in self.buttons.values():
            button.setEnabled(True)
        self.refresh()
        self.show_status(message, error)

    # --- the tag dump tab -------------------------------------------------------------------

    def _dump_options(self) -> DumpOptions:
        return DumpOptions.from_values(self.module.values())

    def _dump(self, options: DumpOptions) -> str:
        return self.module.get("tagDump")

    def _dump_options_changed(self, options: DumpOptions) -> None:
        for name, value in options.to_values().items():
            self._set(name, value)
