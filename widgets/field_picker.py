"""A searchable list of fields by title: type to narrow it, Enter or a double click to choose.

Used where a person picks one field of many (DicomREGSave's "Show field as input..."): the
list shows each field's title (distinct over the field table) with its group, the name in
the tooltip; the search matches the title, the name or the group, ignoring case.
"""

from __future__ import annotations

from collections.abc import Iterable

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dicomreg.core.fields import field_by_name

__all__ = ["FieldPicker", "pick_field"]

_NAME = Qt.ItemDataRole.UserRole


class FieldPicker(QDialog):
    """A dialog listing ``names`` by title, with a search box above the list."""

    def __init__(self, names: Iterable[str], title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.search = QLineEdit()
        self.search.setPlaceholderText("search by title or name")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        for name in names:
            field = field_by_name(name)
            item = QListWidgetItem(f"{field.title}  —  {field.group}")
            item.setData(_NAME, field.name)
            item.setToolTip(f"{field.name}: {field.description}")
            self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._accept_shown)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.resize(460, 520)
        self._filter("")

    @property
    def chosen(self) -> str | None:
        """The chosen field's name, or None."""
        item = self.list.currentItem()
        return None if item is None or item.isHidden() else item.data(_NAME)

    def shown_names(self) -> list[str]:
        """The names the search leaves in the list, in order."""
        return [self.list.item(i).data(_NAME) for i in range(self.list.count())
                if not self.list.item(i).isHidden()]

    def _filter(self, text: str) -> None:
        key = text.strip().casefold()
        first = None
        for index in range(self.list.count()):
            item = self.list.item(index)
            hidden = bool(key) and key not in item.text().casefold() \
                and key not in item.data(_NAME).casefold()
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        current = self.list.currentItem()
        if current is None or current.isHidden():
            self.list.setCurrentItem(first)
        self.ok.setEnabled(first is not None)

    def _accept_shown(self) -> None:
        if self.chosen is not None:
            self.accept()


def pick_field(names: Iterable[str], title: str, parent: QWidget | None = None) -> str | None:
    """Let a person pick one of ``names``; the chosen name, or None when cancelled."""
    picker = FieldPicker(names, title, parent)
    return picker.chosen if picker.exec() == QDialog.DialogCode.Accepted else None
