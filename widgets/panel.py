"""The DicomREGSave panel: a section that leads to a save, then every field by group.

The first section holds what a save needs, in order: the connectors and what each holds,
the inheritance source, Inherit (Ctrl+R) and Undo, the output file, Save (Ctrl+S), and the
last result with dciodvfy's verdict on the written file. Below it, "All fields" (collapsible)
has one tab per group of the field table (inheritance input, tag dump, save, patient, ...),
each field once, as the editor of its type, each trigger as a button. A String twin's row
is shown only while its enum says User Defined; a field without effect in the present state
is greyed. A value is checked as it is typed and marked with the rule it breaks; after an
inheritance the fields it changed are marked (colours from the palette, readable in light
and dark themes), and Undo Inheritance is one click. Save runs the module's run sequence
(inherit, reference, re-apply the values set by hand, save: what ``dicomreg run`` does) off
the GUI thread, with a progress bar and a cancel button. It needs the core and qtpy only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtGui import QKeySequence, QShortcut
from qtpy.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QToolButton,
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
from dicomreg.core.regsave import (
    CONNECTOR_HELP,
    CONNECTOR_TITLES,
    DicomREGSave,
    RunResult,
    describe_connectors,
)

from .field_editors import FieldEditor, editor_for
from .tag_dump_view import TagDumpView
from .tasks import BackgroundTask

__all__ = ["DicomREGSavePanel"]

_TOP_TRIGGERS = ("inheritDICOMTags", "undoInheritance", "save")
# The leading section's fields, in the order of a save: the inheritance source, the output.
_SOURCE_FIELDS = ("inputSelector", "unresolvedFileName", "inputVolumeIndex")
_OUTPUT_FIELDS = ("fileName",)
_LEAD_FIELDS = (*_SOURCE_FIELDS, *_OUTPUT_FIELDS)
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

        self._rows: dict[str, QFormLayout] = {}  # the form each field's row is in
        layout = QVBoxLayout(self)
        layout.addWidget(self._lead_section())
        self.all_fields = QToolButton()
        self.all_fields.setText("All fields")
        self.all_fields.setCheckable(True)
        self.all_fields.setChecked(True)
        self.all_fields.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.all_fields.setArrowType(Qt.ArrowType.DownArrow)
        self.all_fields.toggled.connect(self._show_all_fields)
        layout.addWidget(self.all_fields)
        self.tabs = QTabWidget()
        for group in GROUPS:
            self.tabs.addTab(self._group_tab(group), group[0].upper() + group[1:])
        layout.addWidget(self.tabs, 1)
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

    def _lead_section(self) -> QGroupBox:
        """What a save needs, in its order: inputs, source, Inherit, output, Save, result."""
        lead = QGroupBox("Save a registration")
        form = QFormLayout(lead)
        # Narrow (an editor's side dock), a row's field goes below its label: the flow view
        # beside keeps its width.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.held: dict[str, QLabel] = {}
        for name, title in CONNECTOR_TITLES.items():
            held = QLabel()
            held.setWordWrap(True)
            held.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.held[name] = held
            form.addRow(self._label(f"{title} ({name})", CONNECTOR_HELP[name]), held)
        for name in _SOURCE_FIELDS:
            self._field_row(form, field_by_name(name))
        form.addRow("", self._button_row(_TOP_TRIGGERS[:2]))
        for name in _OUTPUT_FIELDS:
            self._field_row(form, field_by_name(name))
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        save = self._button_row(_TOP_TRIGGERS[2:])
        save.layout().addWidget(self.progress, 1)
        save.layout().addWidget(self.cancel_button)
        form.addRow("", save)
        self.status = QLabel()
        self.status.setWordWrap(True)
        # Room for a refusal's few lines: a wrapped label in a form is otherwise squeezed to
        # one line when the tabs below take the height.
        self.status.setMinimumHeight(3 * self.status.fontMetrics().lineSpacing())
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        form.addRow(self._label("Last result", "the module's status field"), self.status)
        self.verdict = QLabel("no file written yet")
        self.verdict.setWordWrap(True)
        form.addRow(self._label("dciodvfy", "dciodvfy's verdict on the last written file"),
                    self.verdict)
        return lead

    def _button_row(self, names: tuple[str, ...]) -> QWidget:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        for name in names:
            self.buttons[name] = self._trigger_button(name)
            line.addWidget(self.buttons[name])
        line.addStretch()
        return row

    @staticmethod
    def _label(text: str, tip: str) -> QLabel:
        label = QLabel(text)
        label.setToolTip(tip)
        return label

    def _field_row(self, form: QFormLayout, field: Any) -> None:
        editor = editor_for(field)
        editor.edited.connect(lambda text, n=field.name: self._edited(n, text))
        editor.typing.connect(lambda text, n=field.name: self._typing(n, text))
        if not field.persistent:
            editor.set_editable(False)
        self.editors[field.name] = editor
        form.addRow(self._label(field.title, field.name), editor)
        self._rows[field.name] = form

    def _group_tab(self, group: str) -> QWidget:
        if group == "tag dump":
            self.dump_view = TagDumpView(self._dump, self._dump_options())
            self.dump_view.options_changed.connect(self._dump_options_changed)
            return self.dump_view
        form = QFormLayout()
        for field in (f for f in FIELDS if f.group == group and f.name not in _LEAD_FIELDS):
            if field.type is FieldType.TRIGGER:
                if field.name not in _TOP_TRIGGERS:
                    button = self._trigger_button(field.name)
                    self.buttons[field.name] = button
                    form.addRow("", button)
                continue
            self._field_row(form, field)
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
                # Input Selector is not File); a String twin's row is hidden as well while
                # its enum is not User Defined, since it then only repeats the enum.
                sensitive = declared.is_sensitive(self.module.values())
                editor.set_editable(sensitive)
                if declared.follows:
                    self._rows[name].setRowVisible(editor, sensitive)
        for name, text in describe_connectors(self.module).items():
            self.held[name].setText(text)
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
        """Run the module's run sequence (as ``dicomreg run``), then dciodvfy on the written
        file where it is installed, with a progress bar and a cancel button; the panel stays
        responsive."""
        self.task = BackgroundTask(lambda progress: _run_and_verify(self.module, progress),
                                   self)
        self.task.progressed.connect(lambda f: self.progress.setValue(int(f * 100)))
        self.task.done.connect(self._saved)
        self.task.failed.connect(lambda message: self._ended(message, error=True))
        self.task.cancelled.connect(lambda: self._ended("save cancelled; nothing was written"))
        self._busy(True)
        self.task.start()
        return self.task

    def cancel(self) -> None:
        """Cancel a save under way (it leaves no file)."""
        if self.task is not None:
            self.task.cancel()

    def _saved(self, outcome: tuple[RunResult, str]) -> None:
        result, verdict = outcome
        if result.path is not None and self._on_saved is not None:
            self._on_saved(result.path)
        if result.path is not None:
            self.verdict.setText(f"{verdict} ({result.path.name})")
        self._ended("; ".join([self.module.status, *result.warnings]))

    def _ended(self, message: str, error: bool = False) -> None:
        self._busy(False)
        self.refresh()
        self.show_status(message, error)

    def _busy(self, busy: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.tabs.setEnabled(not busy)
        for editor in (self.editors[name] for name in _LEAD_FIELDS):
            editor.setEnabled(not busy)
        for button in self.buttons.values():
            button.setEnabled(not busy)

    def _show_all_fields(self, shown: bool) -> None:
        self.tabs.setVisible(shown)
        self.all_fields.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    # --- the tag dump tab -------------------------------------------------------------------

    def _dump_options(self) -> DumpOptions:
        return DumpOptions.from_values(self.module.values())

    def _dump(self, options: DumpOptions) -> str:
        return self.module.get("tagDump")

    def _dump_options_changed(self, options: DumpOptions) -> None:
        for name, value in options.to_values().items():
            self._set(name, value)


def _run_and_verify(module: DicomREGSave, progress: Callable[[float], bool]
                    ) -> tuple[RunResult, str]:
    """The run sequence, then dciodvfy's verdict on the file it wrote (as ``dicomreg run``
    prints it), or why there is none."""
    from dicomreg.core.reg import NOT_INSTALLED, dciodvfy_available, run_dciodvfy

    result = module.run(progress=progress)
    if result.path is None:
        return result, ""
    if not dciodvfy_available():
        return result, NOT_INSTALLED
    return result, f"dciodvfy: {run_dciodvfy(result.path)}"
