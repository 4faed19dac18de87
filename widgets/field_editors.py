"""An editor for each field type of the field table, all with one small interface.

Every editor shows and edits a field's text form (what the documentation writes), emits
``edited(text)`` when the user changes it, and can be marked: with a problem (red, the rule
in its tooltip), as changed by the last inheritance (yellow), or read-only; the marks'
colours follow the palette (:mod:`.marks`).
"""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from dicomreg.core.fields import Field, FieldType, format_value, parse

from .marks import mark_style

__all__ = ["FieldEditor", "editor_for"]



class FieldEditor(QWidget):
    """Base of the editors: the text interface and the marks."""

    edited = Signal(str)
    #: the text as it is being typed, before it is committed (for checking at once)
    typing = Signal(str)

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self._loading = False
        self._problem: str | None = None
        self._marked = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.setToolTip(f"{field.name}: {field.description}")

    # --- the text interface -----------------------------------------------------------------

    def set_text(self, text: str) -> None:
        """Show ``text`` without emitting ``edited``."""
        self._loading = True
        try:
            self._show(text)
        finally:
            self._loading = False

    def text(self) -> str:
        """The text the editor holds."""
        raise NotImplementedError

    def _show(self, text: str) -> None:
        raise NotImplementedError

    def _changed(self, *_args: object) -> None:
        if not self._loading:
            self.edited.emit(self.text())

    # --- marks ------------------------------------------------------------------------------

    def set_problem(self, problem: str | None) -> None:
        """Mark the value as breaking a rule (shown in the tooltip), or clear the mark."""
        self._problem = problem
        self._restyle()

    @property
    def problem(self) -> str | None:
        """The rule the shown value breaks, if any."""
        return self._problem

    def set_marked(self, marked: bool) -> None:
        """Mark the field as changed by the last inheritance."""
        self._marked = marked
        self._restyle()

    @property
    def marked(self) -> bool:
        """Whether the last inheritance changed this field."""
        return self._marked

    def set_editable(self, editable: bool) -> None:
        """Allow or forbid editing (read-only outputs, 'User Defined' strings)."""
        for child in self.findChildren(QWidget):
            child.setEnabled(editable)

    def _restyle(self) -> None:
        # The editor's own palette, never styled here, follows the window's theme (Ryven's
        # dark style sheet gives it a dark Base and a light Text).
        kind = "problem" if self._problem else "marked" if self._marked else None
        style = mark_style(self.palette(), kind)
        for child in self.findChildren(QWidget):
            child.setStyleSheet(style)
        tip = f"{self.field.name}: {self.field.description}"
        self.setToolTip(f"{tip}\n\n{self._problem}" if self._problem else tip)


class _LineEditor(FieldEditor):
    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.edit = QLineEdit()
        self.edit.editingFinished.connect(self._changed)
        self.edit.textEdited.connect(self.typing.emit)
        self.layout().addWidget(self.edit)

    def text(self) -> str:
        return self.edit.text()

    def _show(self, text: str) -> None:
        self.edit.setText(text)


class _TextEditor(FieldEditor):
    """Several lines (lists of UIDs), committed when focus leaves."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.edit = QPlainTextEdit()
        self.edit.setFixedHeight(72)
        self.edit.focusOutEvent = self._focus_out
        self.edit.textChanged.connect(lambda: self._loading or self.typing.emit(self.text()))
        self.layout().addWidget(self.edit)

    def _focus_out(self, event: object) -> None:
        QPlainTextEdit.focusOutEvent(self.edit, event)
        self._changed()

    def text(self) -> str:
        return self.edit.toPlainText()

    def _show(self, text: str) -> None:
        self.edit.setPlainText(text)


class _BoolEditor(FieldEditor):
    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.box = QCheckBox()
        self.box.toggled.connect(self._changed)
        self.layout().addWidget(self.box)

    def text(self) -> str:
        return "TRUE" if self.box.isChecked() else "FALSE"

    def _show(self, text: str) -> None:
        self.box.setChecked(parse(self.field, text))


class _IntegerEditor(FieldEditor):
    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.spin = QSpinBox()
        self.spin.setRange(field.minimum if field.minimum is not None else -(2**31 - 1),
                           2**31 - 1)
        self.spin.valueChanged.connect(self._changed)
        self.layout().addWidget(self.spin)

    def text(self) -> str:
        return str(self.spin.value())

    def _show(self, text: str) -> None:
        self.spin.setValue(int(text))


class _EnumEditor(FieldEditor):
    """A combo box of the values' titles, storing their names."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        self.combo = QComboBox()
        for value in field.enum_values:
            self.combo.addItem(value.title, value.name)
            if value.description:
                self.combo.setItemData(self.combo.count() - 1, value.description, 3)  # tooltip
        self.combo.currentIndexChanged.connect(self._changed)
        self.layout().addWidget(self.combo)

    def text(self) -> str:
        return str(self.combo.currentData())

    def _show(self, text: str) -> None:
        self.combo.setCurrentIndex(max(0, self.combo.findData(text)))


class _NumbersEditor(FieldEditor):
    """Vector3, Vector6 (two rows of three) and Matrix (four rows of four)."""

    def __init__(self, field: Field, parent: QWidget | None = None) -> None:
        super().__init__(field, parent)
        count = {FieldType.VECTOR3: 3, FieldType.VECTOR6: 6, FieldType.MATRIX: 16}[field.type]
        columns = 4 if field.type is FieldType.MATRIX else 3
        grid = QGridLayout()
        grid.setSpacing(2)
        self.spins = []
        for index in range(count):
            spin = QDoubleSpinBox()
            spin.setDecimals(6)
            spin.setRange(-1e7, 1e7)
            spin.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
            spin.setMaximumWidth(96)
            spin.editingFinished.connect(self._changed)
            grid.addWidget(spin, index // columns, index % columns)
            self.spins.append(spin)
        holder = QWidget()
        holder.setLayout(grid)
        self.layout().addWidget(holder)

    def text(self) -> str:
        return format_value(self.field, tuple(spin.value() for spin in self.spins))

    def _show(self, text: str) -> None:
        for spin, value in zip(self.spins, parse(self.field, text), strict=True):
            spin.setValue(value)


def editor_for(field: Field, parent: QWidget | None = None) -> FieldEditor:
    """The editor of a field's type (triggers have none: they are buttons)."""
    if field.type is FieldType.BOOL:
        return _BoolEditor(field, parent)
    if field.type is FieldType.INTEGER:
        return _IntegerEditor(field, parent)
    if field.type is FieldType.ENUM:
        return _EnumEditor(field, parent)
    if field.type in (FieldType.VECTOR3, FieldType.VECTOR6, FieldType.MATRIX):
        return _NumbersEditor(field, parent)
    if field.multi_line:
        return _TextEditor(field, parent)
    return _LineEditor(field, parent)
