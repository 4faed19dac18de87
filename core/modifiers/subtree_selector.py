"""DicomModifySubTreeSelectorPlugin: run plugins on chosen sequence items only.

Configuration:

- ``path``: the items to select, as sequence steps separated by ``>``, each a keyword (or
  tag) with an item index in brackets, ``*`` for every item:
  ``"DeformableRegistrationSequence[*] > ReferencedImageSequence[0]"``. Indexes count from 0.
- ``pre``: plugins (as plain data) run on the whole dataset first, for example to create the
  sequence whose items are then edited.
- ``plugins``: plugins (as plain data) run on each selected item, as if it were a dataset.
- ``required`` (default true): a path that selects nothing is an error rather than a no-op.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydicom.dataset import Dataset

from dicomreg.core.modifiers.base import (
    ModifierError,
    ModifierPlugin,
    parse_tag,
    plugin_from_data,
    tag_text,
)

__all__ = ["DicomModifySubTreeSelectorPlugin", "select_items"]

_STEP = re.compile(r"^\s*([^\[\]\s]+)\s*\[\s*(\*|\d+)\s*\]\s*$")


def _steps(path: str) -> list[tuple[Any, int | None]]:
    steps = []
    for part in path.split(">"):
        match = _STEP.match(part)
        if match is None:
            raise ValueError(f"step {part.strip()!r} is not KEYWORD[index] or KEYWORD[*]")
        index = None if match.group(2) == "*" else int(match.group(2))
        steps.append((parse_tag(match.group(1), "path"), index))
    return steps


def select_items(ds: Dataset, path: str) -> list[Dataset]:
    """The sequence items ``path`` selects in ``ds`` (see the module documentation)."""
    current = [ds]
    for tag, index in _steps(path):
        selected = []
        for dataset in current:
            if tag not in dataset:
                continue
            element = dataset[tag]
            if element.VR != "SQ":
                raise ModifierError(f"{tag_text(tag)} in the path is not a sequence")
            items = list(element.value)
            if index is None:
                selected += items
            elif index < len(items):
                selected.append(items[index])
        current = selected
    return current


class DicomModifySubTreeSelectorPlugin(ModifierPlugin):
    """Applies its own plugin list to selected sequence items; see the module documentation."""

    kind: ClassVar[str] = "DicomModifySubTreeSelectorPlugin"

    def __init__(self, path: str = "", plugins: list[Any] | None = None,
                 pre: list[Any] | None = None, required: bool = True,
                 name: str | None = None) -> None:
        # Plugins may be given as objects or as plain data; the configuration keeps data.
        self._plugins = [p if isinstance(p, ModifierPlugin) else plugin_from_data(p)
                         for p in plugins or []]
        self._pre = [p if isinstance(p, ModifierPlugin) else plugin_from_data(p)
                     for p in pre or []]
        super().__init__(name=name, path=path,
                         plugins=[p.to_data() for p in self._plugins],
                         pre=[p.to_data() for p in self._pre], required=required)

    def validate(self) -> None:
        try:
            _steps(self.config["path"])
        except (ValueError, ModifierError) as error:
            raise self._error(f"path {self.config['path']!r}: {error}") from None

    def apply(self, ds: Dataset) -> None:
        for plugin in self._pre:
            plugin.apply(ds)
        items = select_items(ds, self.config["path"])
        if not items and self.config["required"]:
            raise ModifierError(f"path {self.config['path']!r} selects no item")
        for item in items:
            for plugin in self._plugins:
                plugin.apply(item)
