"""The tag dump viewer: the dump, its options as toggles, a filter as you type, and search.

The dump comes from a callable given the options (a module's dump, or any file's), so the
viewer serves both the panel and a loaded REG. The filter is the module's: Boost-style
regular expressions matched against whole lines (``.*[[:digit:]].*``); an invalid one is
marked with the reason and the last valid one stays applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from qtpy.QtCore import Signal
from qtpy.QtGui import QFont, QTextDocument
from qtpy.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dicomreg.core.dicom import DumpOptions
from dicomreg.core.fields import LineFilter, LineFilterError

__all__ = ["TagDumpView"]


class TagDumpView(QWidget):
    """Shows ``dump(options)``; emits ``options_changed`` when a toggle or the filter changes."""

    options_changed = Signal(object)

    def __init__(self, dump: Callable[[DumpOptions], str], options: DumpOptions | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dump = dump
        self.options = options or DumpOptions()
        layout = QVBoxLayout(self)
        toggles = QHBoxLayout()
        self.annotate = QCheckBox("Annotate")
        self.private = QCheckBox("Private values")
        self.binary = QSpinBox()
        self.binary.setRange(0, 1 << 16)
        self.binary.setPrefix("binary bytes ")
        self.size = QSpinBox()
        self.size.setRange(0, 2**31 - 1)
        self.size.setSingleStep(10000)
        self.size.setPrefix("size ")
        for widget in (self.annotate, self.private, self.binary, self.size):
            toggles.addWidget(widget)
        toggles.addStretch()
        layout.addLayout(toggles)
        finding = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("filter: a regular expression for whole lines, "
                                       "e.g. .*[[:digit:]].*")
        self.search = QLineEdit()
        self.search.setPlaceholderText("search")
        self.find_button = QPushButton("Find next")
        finding.addWidget(self.filter, 2)
        finding.addWidget(self.search, 1)
        finding.addWidget(self.find_button)
        layout.addLayout(finding)
        self.message = QLabel()
        layout.addWidget(self.message)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFont("Monospace", 9))
        layout.addWidget(self.text, 1)
        self._show_options()
        self.annotate.toggled.connect(self._toggled)
        self.private.toggled.connect(self._toggled)
        self.binary.valueChanged.connect(self._toggled)
        self.size.valueChanged.connect(self._toggled)
        self.filter.textChanged.connect(self._filter_typed)
        self.search.returnPressed.connect(self.find_next)
        self.find_button.clicked.connect(self.find_next)

    def _show_options(self) -> None:
        for widget in (self.annotate, self.private, self.binary, self.size, self.filter):
            widget.blockSignals(True)
        self.annotate.setChecked(self.options.annotate)
        self.private.setChecked(self.options.private_values)
        self.binary.setValue(self.options.binary_bytes)
        self.size.setValue(self.options.max_size)
        self.filter.setText(self.options.line_filter)
        for widget in (self.annotate, self.private, self.binary, self.size, self.filter):
            widget.blockSignals(False)

    def _toggled(self, *_args: object) -> None:
        self._apply(replace(self.options, annotate=self.annotate.isChecked(),
                            private_values=self.private.isChecked(),
                            binary_bytes=self.binary.value(), max_size=self.size.value()))

    def _filter_typed(self, text: str) -> None:
        try:
            LineFilter(text)
        except LineFilterError as error:
            self.filter.setStyleSheet("background: #ffd9d9;")
            self.message.setText(str(error))
            return
        self.filter.setStyleSheet("")
        self.message.setText("")
        self._apply(replace(self.options, line_filter=text))

    def _apply(self, options: DumpOptions) -> None:
        self.options = options
        self.options_changed.emit(options)
        self.refresh()

    def refresh(self) -> None:
        """Show the dump for the current options."""
        try:
            text = self._dump(self.options)
        except LineFilterError as error:  # the filter took too long on this dump
            self.message.setText(str(error))
            return
        self.text.setPlainText(text)
        lines = 0 if not text else text.count("\n") + 1
        if not self.message.text() or "line(s)" in self.message.text():
            self.message.setText(f"{lines} line(s)")

    def find_next(self) -> bool:
        """Select the next occurrence of the search text (from the top when none is left)."""
        needle = self.search.text()
        if not needle:
            return False
        if self.text.find(needle):
            return True
        cursor = self.text.textCursor()
        cursor.movePosition(cursor.MoveOperation.Start)
        self.text.setTextCursor(cursor)
        return self.text.find(needle, QTextDocument.FindFlag(0))
