"""The tag dump: every attribute of a dataset, one line each, annotated and filtered on demand.

One line per attribute: its tag, VR, name and value; a nested attribute is prefixed with one
``>`` per sequence level, and each item starts with a ``> Item N`` line. Binary values show
``numShownBinaryEntries`` bytes (read from a buffered or file-backed value without reading the
rest). UIDs show their names. Unprintable characters (NUL bytes of an undecodable value,
terminal controls, newlines) are shown escaped. With ``annotate`` each line ends with the
attribute's Types in the Deformable Spatial Registration IOD (every Type it has anywhere,
since no context analysis is done) with their meanings, and the modules it belongs to. With
``dumpPrivateTagValues`` private values are decoded by their creator's private dictionary
where pydicom knows it. The dump may be filtered (:mod:`.line_filter`) and is clamped to
``tagDumpSize`` characters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from functools import cache
from typing import Any

from pydicom.datadict import get_private_entry
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID

from dicomreg.core.dicom.standard import iod_requirements
from dicomreg.core.fields import LineFilter, field_by_name, parse

__all__ = ["SHORTENED", "TYPE_MEANINGS", "DumpOptions", "tag_dump"]

SHORTENED = "tag list shortened and not shown completely"
# The Type meanings as the module documentation gives them.
TYPE_MEANINGS = {
    "1": "Mandatory",
    "1C": "Conditionally Mandatory",
    "2": "Mandatory, may have zero length or no item",
    "2C": "Conditionally Mandatory, but may be empty",
    "3": "Optional",
}
_BINARY_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}
_TYPE_ORDER = ("1", "1C", "2", "2C", "3")


def _option(name: str) -> Any:
    """A dump option declared by the field ``name``: the field's default is its default."""
    declared = field_by_name(name)
    return dataclass_field(default=parse(declared, declared.default), metadata={"field": name})


@dataclass(frozen=True)
class DumpOptions:
    """The tag dump fields of the module, under shorter names; each attribute names its field
    (:meth:`field_names`) and takes the field's default."""

    annotate: bool = _option("annotate")
    private_values: bool = _option("dumpPrivateTagValues")
    binary_bytes: int = _option("numShownBinaryEntries")
    max_size: int = _option("tagDumpSize")
    line_filter: str = _option("regExLineFilter")

    @classmethod
    def field_names(cls) -> dict[str, str]:
        """Each option's attribute name -> the name of the field it stands for."""
        return {option.name: option.metadata["field"] for option in fields(cls)}

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> DumpOptions:
        """The options from typed field values (a module's, or a node's settings)."""
        return cls(**{option: values[name] for option, name in cls.field_names().items()})

    def to_values(self) -> dict[str, Any]:
        """The options as typed field values, by field name."""
        return {name: getattr(self, option) for option, name in self.field_names().items()}


@cache
def _annotations() -> dict[str, str]:
    """keyword -> '[Type 1 Mandatory; in module A, module B]' over the whole IOD."""
    types: dict[str, set[str]] = defaultdict(set)
    modules: dict[str, list[str]] = defaultdict(list)
    for requirement in iod_requirements():
        types[requirement.keyword].add(requirement.type)
        name = requirement.module.replace("-", " ")
        if name not in modules[requirement.keyword]:
            modules[requirement.keyword].append(name)
    out = {}
    for keyword, kinds in types.items():
        ordered = [k for k in _TYPE_ORDER if k in kinds]
        text = "; ".join(f"Type {k}: {TYPE_MEANINGS[k]}" for k in ordered)
        out[keyword] = f"[{text}; in {', '.join(modules[keyword])}]"
    return out


def _binary(element: DataElement, count: int) -> str:
    value = element.value
    if element.is_buffered:
        position = value.tell()
        length = value.seek(0, 2)
        value.seek(0)
        head = value.read(count) if count else b""
        value.seek(position)
    else:
        length, head = len(value), bytes(value[:count])
    shown = " ".join(f"{b:02x}" for b in head)
    more = " ..." if length > len(head) else ""
    return f"{length} bytes" + (f": {shown}{more}" if count else "")


def _text(element: DataElement) -> str:
    value = element.value
    values = list(value) if isinstance(value, (MultiValue, list, tuple)) else [value]
    parts = []
    for item in values:
        text = "" if item is None else str(item)
        if element.VR == "UI" and text:
            name = UID(text).name
            if name and name != text:
                text += f" = {name}"
        parts.append(text)
    return "\\".join(parts)


def _private(element: DataElement, ds: Dataset, decode: bool) -> tuple[DataElement, str]:
    """The element (decoded if asked and possible) and its name with its creator."""
    creator = element.private_creator or ""
    if not creator and element.tag.element >= 0x0100:
        block = ds.get((element.tag.group, element.tag.element >> 8))
        creator = str(block.value) if block is not None else ""
    if element.tag.element < 0x0100:
        return element, "Private Creator"
    if not decode:
        return element, f"[{creator}] private" if creator else "private (no creator)"
    try:
        vr, _vm, name, _retired = get_private_entry(element.tag, creator)
    except KeyError:
        return element, f"[{creator}] private (no decoder known)"
    if element.VR == "UN" and not element.is_buffered and vr not in ("UN", "OB or OW"):
        raw = RawDataElement(element.tag, vr, len(element.value), element.value, 0, True, True)
        try:
            element = convert_raw_data_element(raw)
        except Exception:  # an undecodable value stays raw; the dump never fails on it
            pass
    return element, f"[{creator}] {name}"


def _printable(line: str) -> str:
    """The line with every unprintable character escaped (``\\x00``, ``\\u200b``): a value
    that could not be decoded must not put NUL bytes or terminal controls on a terminal, nor
    break the one-line-per-attribute rule with a newline."""
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in line)


def _lines(ds: Dataset, options: DumpOptions, depth: int) -> Iterator[str]:
    prefix = "> " * depth
    annotations = _annotations() if options.annotate else {}
    for element in ds:
        if isinstance(element, RawDataElement):  # pragma: no cover - iteration converts
            element = ds[element.tag]
        name = element.name
        if element.tag.is_private:
            element, name = _private(element, ds, options.private_values)
        head = f"{prefix}{element.tag} {element.VR:2s} {name:<40s}"
        if element.VR == "SQ":
            line = f"{head} {len(element.value)} item(s)"
        elif element.VR in _BINARY_VRS:
            line = f"{head} {_binary(element, options.binary_bytes)}"
        else:
            line = f"{head} {_text(element)}"
        if options.annotate:
            if element.tag.is_private:
                line += "  [private]"
            else:
                line += "  " + annotations.get(element.keyword, "[not in this IOD]")
        yield _printable(line).rstrip()
        if element.VR == "SQ":
            for index, item in enumerate(element.value, 1):
                yield f"{prefix}> Item {index}"
                yield from _lines(item, options, depth + 1)


def tag_dump(ds: Dataset, options: DumpOptions | None = None) -> str:
    """The dump of ``ds`` (its file meta first, if it has one).

    Raises
    ------
    LineFilterError
        If the filter is not a valid expression or takes too long.
    """
    options = options or DumpOptions()
    lines: list[str] = []
    meta = getattr(ds, "file_meta", None)
    if meta:
        lines += list(_lines(meta, options, 0))
    lines += list(_lines(ds, options, 0))
    if options.line_filter:
        lines = LineFilter(options.line_filter).filter(lines)
    text = "\n".join(lines)
    if len(text) > options.max_size:
        cut = text.rfind("\n", 0, options.max_size)
        text = text[: cut if cut > 0 else options.max_size] + "\n" + SHORTENED
    return text
