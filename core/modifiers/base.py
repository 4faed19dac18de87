"""What every modifier plugin is: a name, a plain-data configuration, and one job.

A plugin changes the final Dataset just before it is checked and written. Its configuration
is plain data (JSON types only), so that a flow or a ``--modifiers`` file can save it, and it
is validated when the plugin is made: a bad configuration is refused then, not at save time.
Plugins chain: :meth:`ModifierPlugin.chain` takes the upstream list and returns it with the
plugin appended; the list runs in order, upstream first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

from dicomreg.core.errors import DicomRegError

__all__ = ["PLUGINS", "ModifierConfigError", "ModifierError", "ModifierPlugin", "parse_tag",
           "plugin_from_data"]


class ModifierConfigError(DicomRegError):
    """A plugin configuration that cannot work; the message names the plugin and the part."""


class ModifierError(DicomRegError):
    """A plugin that could not do its job on a dataset; the message says which and why."""


def parse_tag(text: Any, where: str) -> BaseTag:
    """A tag from a keyword ('PatientID'), '(0010,0020)', '00100020' or '0x00100020'."""
    if isinstance(text, int):
        return Tag(text)
    value = str(text).strip()
    tag = tag_for_keyword(value)
    if tag is not None:
        return Tag(tag)
    digits = value.strip("()").replace(",", "").replace(" ", "")
    digits = digits[2:] if digits.lower().startswith("0x") else digits
    if len(digits) == 8:
        try:
            return Tag(int(digits, 16))
        except ValueError:
            pass
    raise ModifierConfigError(f"{where}: {text!r} is neither a DICOM keyword nor a tag such "
                              "as (0010,0020)")


def tag_text(tag: BaseTag) -> str:
    """'PatientID (0010,0020)' or '(0029,1010)'."""
    keyword = keyword_for_tag(tag)
    return f"{keyword} {tag}" if keyword else str(tag)


class ModifierPlugin:
    """Base of the modifier plugins.

    Parameters
    ----------
    name
        A label for messages and the node editor; the class name when not given.
    **config
        The plugin's configuration (plain data); each plugin documents its keys.
    """

    kind: ClassVar[str] = "ModifierPlugin"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each plugin class registers itself by its kind, so that a plugin holding other
        # plugins (the subtree selector) finds them without importing the package.
        super().__init_subclass__(**kwargs)
        PLUGINS[cls.kind] = cls

    def __init__(self, name: str | None = None, **config: Any) -> None:
        self.name = name or self.kind
        self.config = config
        self.validate()

    def validate(self) -> None:
        """Refuse a configuration that cannot work (:class:`ModifierConfigError`)."""

    def apply(self, ds: Dataset) -> None:
        """Change ``ds`` in place."""
        raise NotImplementedError

    def chain(self, upstream: Sequence[ModifierPlugin] | None = None) -> list[ModifierPlugin]:
        """The upstream list with this plugin appended."""
        return [*(upstream or []), self]

    def to_data(self) -> dict[str, Any]:
        """The plugin as plain data: what a flow or a --modifiers file saves."""
        return {"plugin": self.kind, "name": self.name, **self.config}

    def _error(self, message: str) -> ModifierConfigError:
        return ModifierConfigError(f"modifier {self.name}: {message}")

    def _require(self, mapping: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in mapping:
            raise self._error(f"{where} needs {key!r}")
        return mapping[key]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_data()!r})"


#: Every plugin class by its ``kind`` (filled as the plugin modules are imported).
PLUGINS: dict[str, type[ModifierPlugin]] = {}


def plugin_from_data(data: Any) -> ModifierPlugin:
    """A plugin from its plain data; a clear error for anything else."""
    if not isinstance(data, dict) or data.get("plugin") not in PLUGINS:
        kind = data.get("plugin") if isinstance(data, dict) else type(data).__name__
        raise ModifierConfigError(f"{kind!r} is not a modifier plugin; expected one of "
                                  f"{', '.join(PLUGINS)}")
    config = {k: v for k, v in data.items() if k != "plugin"}
    try:
        return PLUGINS[data["plugin"]](**config)
    except TypeError as error:  # an unknown key
        raise ModifierConfigError(f"{data['plugin']}: {error}") from None
