"""DicomModifyTagsPlugin: add, change and remove attributes of the final dataset.

Configuration: ``operations``, a list run in order, each a mapping with an ``op``. The six
kinds of change of the original plugin:

1. Standard attributes: ``{"op": "set", "tag": "PatientID", "value": "ANON-01"}`` adds or
   replaces (a list value is multi-valued; ``"vr"`` may be given for a tag the dictionary
   does not know); ``{"op": "remove", "tag": "StudyDescription"}``.
2. Private removal: ``{"op": "remove_private"}`` removes every private attribute;
   ``{"op": "remove_private", "creator": "SIEMENS CSA HEADER"}`` one creator's block with its
   creator element; ``{"op": "remove_private", "group": "0029"}`` a whole private group.
3. Private attributes with their creator: ``{"op": "set_private", "group": "0011",
   "creator": "MY SITE", "element": "01", "vr": "LO", "value": "..."}`` reserves the creator's
   block if needed and adds or replaces (0011,xx01).
4. Sequences: ``remove_sequence``, ``empty_sequence``, ``resize_sequence`` (``"items": n``:
   cut, or pad with empty items), ``insert_item`` (``"index": i``) and ``append_item``, the
   last two with ``"attributes": {keyword: value}`` for the new item.
5. Type 2 and 3 attributes only: ``remove_optional`` removes an attribute that is Type 3,
   ``replace_optional`` (``"value"``) replaces one that is Type 2 or 3. The Type is the
   attribute's at the top level of this IOD (or anywhere in it, for one that only appears in
   sequences). A Type 1 attribute named here is refused when the plugin is made, so a
   de-identification list cannot break what the object needs.
6. Binary values: ``{"op": "set_binary", "tag": ..., "vr": "OB" | "OW" | "OF",
   "values": [numbers]}`` (or ``"hex": "01 02 ff"``) adds or replaces a multi-value binary
   value, packed little-endian as the VR says.

Every ``tag`` is a keyword, ``(gggg,eeee)`` or ``ggggeeee``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset

from dicomreg.core.dicom import iod_requirements
from dicomreg.core.modifiers.base import ModifierError, ModifierPlugin, parse_tag, tag_text

__all__ = ["DicomModifyTagsPlugin"]

_BINARY = {"OB": "<u1", "OW": "<u2", "OF": "<f4", "OD": "<f8", "OL": "<u4"}
_OPERATIONS = ("set", "remove", "remove_private", "set_private", "remove_sequence",
               "empty_sequence", "resize_sequence", "insert_item", "append_item",
               "remove_optional", "replace_optional", "set_binary")  # fmt: skip


# What a modifier may not write: the REG's bulk data (written from the field, never from a
# value), the image's pixel data, item and delimiter tags, and the file meta group.
_BULK = {0x00640009: "Vector Grid Data", 0x7FE00010: "Pixel Data",
         0x7FE00008: "Float Pixel Data", 0x7FE00009: "Double Float Pixel Data"}
_VALUE_VRS = ("AE", "AS", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN", "SH",
              "SL", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV")
MAX_ITEMS = 10_000  # items a sequence may be resized to: a REG has a handful


def _check_tag(tag: int, where: str) -> None:
    if tag in _BULK or tag >> 16 in (0x0002, 0xFFFE):
        what = _BULK.get(tag) or ("an item or delimiter tag" if tag >> 16 == 0xFFFE
                                  else "a file meta attribute")
        raise ModifierError(f"{where}: ({tag >> 16:04X},{tag & 0xFFFF:04X}) is {what}, which "
                            "no modifier sets; expected a data attribute")


def _check_value(value: Any, where: str) -> None:
    """A value is text, a number, or a flat list of them (nothing nested)."""
    plain = (str, bytes, int, float)
    if isinstance(value, bool) or not (isinstance(value, plain) or isinstance(value, list)
                                       and all(isinstance(v, plain) and not isinstance(v, bool)
                                               for v in value)):
        raise ModifierError(f"{where}: the value {str(value)[:60]!r} is not text, bytes, a number "
                            "or a list of them")


def _check_attributes(attributes: Any, where: str) -> None:
    if not isinstance(attributes, dict):
        raise ModifierError(f"{where}: 'attributes' must be an object of keyword: value")
    for key, value in attributes.items():
        _check_tag(parse_tag(key, where), where)
        _check_value(value, f"{where}, {key}")


def _types_of(keyword: str) -> set[str]:
    """The attribute's Types at the top level of this IOD, or anywhere in it when it only
    appears inside sequences."""
    every = [r for r in iod_requirements() if r.keyword == keyword]
    top = {r.type for r in every if not r.path}
    return top or {r.type for r in every}


def _hex(value: str, where: str) -> int:
    try:
        return int(str(value).lower().removeprefix("0x"), 16)
    except ValueError:
        raise ModifierError(f"{where}: {value!r} is not a hexadecimal number") from None


def new_item(attributes: dict[str, Any]) -> Dataset:
    """A sequence item from {keyword or tag: value}."""
    item = Dataset()
    for key, value in attributes.items():
        tag = parse_tag(key, "item attribute")
        item.add_new(tag, dictionary_VR(tag), value)
    return item


class DicomModifyTagsPlugin(ModifierPlugin):
    """Adds, changes and removes attributes; see the module documentation for the operations.

    Parameters
    ----------
    operations
        The list of operations, run in order.
    name
        A label for messages.
    """

    kind: ClassVar[str] = "DicomModifyTagsPlugin"

    def __init__(self, operations: list[dict[str, Any]] | None = None,
                 name: str | None = None) -> None:
        super().__init__(name=name, operations=list(operations or []))

    def validate(self) -> None:
        operations = self.config["operations"]
        if not isinstance(operations, list):
            raise self._error("'operations' must be a list")
        for index, op in enumerate(operations, 1):
            where = f"operation {index}"
            if not isinstance(op, dict) or op.get("op") not in _OPERATIONS:
                raise self._error(f"{where}: 'op' must be one of {', '.join(_OPERATIONS)}")
            kind = op["op"]
            if kind not in ("remove_private", "set_private"):
                tag = parse_tag(self._require(op, "tag", f"{where} ({kind})"), where)
                _check_tag(tag, where)
                keyword = tag_text(tag).split(" ")[0]
                types = _types_of(keyword)
                if kind == "remove_optional" and types - {"3"}:
                    raise self._error(f"{where}: {tag_text(tag)} is Type "
                                      f"{'/'.join(sorted(types))} in this object; "
                                      "remove_optional removes Type 3 attributes only")
                if kind == "replace_optional" and types & {"1", "1C"}:
                    raise self._error(f"{where}: {tag_text(tag)} is Type 1 in this object; "
                                      "replace_optional changes Type 2 and 3 attributes only")
            if kind in ("set", "replace_optional"):
                _check_value(self._require(op, "value", f"{where} ({kind})"), where)
            if "vr" in op and kind != "set_binary" and op["vr"] not in _VALUE_VRS:
                raise self._error(f"{where}: 'vr' {str(op['vr'])[:20]!r} is not one of "
                                  + " ".join(_VALUE_VRS))
            if kind in ("insert_item", "append_item"):
                _check_attributes(op.get("attributes", {}), where)
            if kind == "set_private":
                for key in ("group", "creator", "element", "vr", "value"):
                    self._require(op, key, f"{where} (set_private)")
                _check_value(op["value"], where)
                if _hex(op["group"], where) % 2 == 0:
                    raise self._error(f"{where}: private groups are odd; {op['group']!r} is not")
            if kind == "resize_sequence" and not (isinstance(op.get("items"), int)
                                                  and 0 <= op["items"] <= MAX_ITEMS):
                raise self._error(f"{where}: resize_sequence needs 'items', a count from 0 "
                                  f"to {MAX_ITEMS}")
            if kind == "set_binary":
                if op.get("vr") not in _BINARY:
                    raise self._error(f"{where}: 'vr' must be one of {', '.join(_BINARY)}")
                if ("values" in op) == ("hex" in op):
                    raise self._error(f"{where}: give either 'values' or 'hex'")
                try:
                    if "hex" in op:
                        bytes.fromhex(str(op["hex"]))
                    else:
                        np.asarray(op["values"], dtype=_BINARY[op["vr"]])
                except (ValueError, TypeError, OverflowError) as error:
                    raise self._error(f"{where}: the binary value is not usable ({error})") \
                        from None

    def apply(self, ds: Dataset) -> None:
        for index, op in enumerate(self.config["operations"], 1):
            try:
                getattr(self, f"_{op['op']}")(ds, op)
            except ModifierError as error:
                raise ModifierError(f"operation {index} ({op['op']}): {error}") from None

    # --- the operations --------------------------------------------------------------------

    @staticmethod
    def _set(ds: Dataset, op: dict[str, Any]) -> None:
        tag = parse_tag(op["tag"], "set")
        try:
            vr = op.get("vr") or dictionary_VR(tag)
        except KeyError:
            raise ModifierError(f"{tag} is not in the dictionary; give its 'vr'") from None
        ds.add_new(tag, vr, op["value"])

    @staticmethod
    def _remove(ds: Dataset, op: dict[str, Any]) -> None:
        tag = parse_tag(op["tag"], "remove")
        if tag in ds:
            del ds[tag]

    @staticmethod
    def _remove_private(ds: Dataset, op: dict[str, Any]) -> None:
        if "group" in op:
            group = _hex(op["group"], "remove_private")
            for tag in [t for t in ds.keys() if t.group == group and t.is_private]:
                del ds[tag]
        elif "creator" in op:
            for tag in [t for t in ds.keys() if t.is_private and t.element >> 8 == 0
                        and t.element >= 0x10 and ds[t].value == op["creator"]]:
                block = tag.element
                for inner in [t for t in ds.keys() if t.group == tag.group
                              and t.element >> 8 == block]:
                    del ds[inner]
                del ds[tag]
        else:
            ds.remove_private_tags()

    @staticmethod
    def _set_private(ds: Dataset, op: dict[str, Any]) -> None:
        group = _hex(op["group"], "set_private")
        block = ds.private_block(group, op["creator"], create=True)
        block.add_new(_hex(op["element"], "set_private") & 0xFF, op["vr"], op["value"])

    @staticmethod
    def _sequence(ds: Dataset, op: dict[str, Any]) -> Any:
        tag = parse_tag(op["tag"], op["op"])
        if tag not in ds:
            if op["op"] in ("append_item", "insert_item", "resize_sequence"):
                ds.add_new(tag, "SQ", [])
            else:
                raise ModifierError(f"the dataset has no {tag_text(tag)}")
        element = ds[tag]
        if element.VR != "SQ":
            raise ModifierError(f"{tag_text(tag)} is not a sequence")
        return element

    def _remove_sequence(self, ds: Dataset, op: dict[str, Any]) -> None:
        del ds[self._sequence(ds, op).tag]

    def _empty_sequence(self, ds: Dataset, op: dict[str, Any]) -> None:
        self._sequence(ds, op).value = []

    def _resize_sequence(self, ds: Dataset, op: dict[str, Any]) -> None:
        element = self._sequence(ds, op)
        items = list(element.value)[: op["items"]]
        items += [Dataset() for _ in range(op["items"] - len(items))]
        element.value = items

    def _insert_item(self, ds: Dataset, op: dict[str, Any]) -> None:
        element = self._sequence(ds, op)
        index = int(op.get("index", 0))
        if not 0 <= index <= len(element.value):
            raise ModifierError(f"index {index} is outside 0 to {len(element.value)}")
        element.value.insert(index, new_item(op.get("attributes", {})))

    def _append_item(self, ds: Dataset, op: dict[str, Any]) -> None:
        self._sequence(ds, op).value.append(new_item(op.get("attributes", {})))

    def _remove_optional(self, ds: Dataset, op: dict[str, Any]) -> None:
        self._remove(ds, op)

    def _replace_optional(self, ds: Dataset, op: dict[str, Any]) -> None:
        self._set(ds, op)

    @staticmethod
    def _set_binary(ds: Dataset, op: dict[str, Any]) -> None:
        tag = parse_tag(op["tag"], "set_binary")
        if "hex" in op:
            data = bytes.fromhex(str(op["hex"]))
        else:
            data = np.asarray(op["values"], dtype=_BINARY[op["vr"]]).tobytes()
        ds.add_new(tag, op["vr"], data)
