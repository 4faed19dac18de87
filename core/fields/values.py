"""Field values: parsing from text, formatting to text, and the rules each value obeys.

Every field has a text form (what the documentation writes, what ``--set NAME=VALUE`` and a
saved flow hold) and a typed form (str, bool, int, tuple of floats). :func:`parse` turns the
first into the second and refuses an invalid value with :class:`FieldValueError`, whose
message names the field and the rule. The DICOM rules come from pydicom's own validators
(``pydicom.valuerep.VALIDATORS``); we add only what they leave out (date ranges, calendar
validity, the IS range, single values).
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

from pydicom.valuerep import MAX_VALUE_LEN, VALIDATORS

from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields.line_filter import LineFilter, LineFilterError
from dicomreg.core.fields.print_list import PrintListError, parse_print_lists
from dicomreg.core.fields.table import Field, FieldType

__all__ = [
    "FieldValueError",
    "format_value",
    "parse",
    "uid_groups",
    "uid_lines",
    "validate_dicom_text",
]

IS_MAX = 2**31 - 1
_TRUE = {"TRUE", "1", "YES", "ON"}
_FALSE = {"FALSE", "0", "NO", "OFF"}
_VECTOR_LENGTHS = {FieldType.VECTOR3: 3, FieldType.VECTOR6: 6, FieldType.MATRIX: 16}
_VR_NAMES = {
    "UI": "a UID: at most 64 characters of digits and dots, no empty component and no "
    "component with a leading zero (a lone 0 is fine)",
    "CS": "a code string: upper case letters, digits, space and underscore, at most 16",
    "DA": "a date YYYYMMDD",
    "TM": "a time HHMMSS(.ffffff), HH, HHMM also accepted",
    "IS": f"an integer within +-{IS_MAX}, at most 12 characters",
    "PN": "a person name (components separated by ^, at most 64 characters each)",
    "LO": "text of at most 64 characters without backslash",
    "SH": "text of at most 16 characters without backslash",
}


class FieldValueError(DicomRegError):
    """A value refused for a field; the message names the field and the rule it breaks."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def validate_dicom_text(vr: str, text: str, *, max_length: int | None = None) -> str | None:
    """Check one single-valued DICOM text value; return what is wrong, or None.

    Parameters
    ----------
    vr
        The Value Representation (UI, CS, DA, TM, IS, PN, LO, SH, ...).
    text
        The value; an empty value is always accepted here (Types are checked elsewhere).
    max_length
        A length limit stricter than the VR's own.
    """
    if text == "":
        return None
    rule = _VR_NAMES.get(vr, f"a valid {vr} value")
    if "\\" in text and vr != "PN":
        return f"{text!r} holds a backslash (a value separator); expected {rule}"
    if any(ord(c) < 32 for c in text):
        return f"{text!r} holds a control character; expected {rule}"
    limit = max_length or MAX_VALUE_LEN.get(vr)
    if limit is not None and len(text) > limit:
        return f"{text!r} has {len(text)} characters, at most {limit} are allowed ({rule})"
    if vr == "UI":
        for component in text.split("."):
            if not component.isdigit() or not component.isascii():
                what = "an empty component" if not component else f"component {component!r}"
                return f"{text!r} has {what}; expected {rule}"
            if len(component) > 1 and component[0] == "0":
                return f"{text!r} has component {component!r} with a leading zero; expected {rule}"
    validator = VALIDATORS.get(vr)
    if validator is not None:
        ok, _msg = validator(vr, text)
        if not ok:
            return f"{text!r} is not {rule}"
    if vr == "DA":
        try:
            datetime.datetime.strptime(text, "%Y%m%d")
        except ValueError:
            return f"{text!r} is not a calendar date YYYYMMDD (no ranges)"
    elif vr == "TM" and "-" in text:
        return f"{text!r} is a time range; expected one time HHMMSS(.ffffff)"
    elif vr == "IS" and not -IS_MAX <= int(text) <= IS_MAX:
        return f"{text!r} is outside the IS range +-{IS_MAX}"
    return None


def _parse_bool(field: Field, text: str) -> bool:
    key = text.strip().upper()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise FieldValueError(field.name, f"{text!r} is not a Bool; expected TRUE or FALSE")


def _parse_numbers(field: Field, text: str) -> tuple[float, ...]:
    count = _VECTOR_LENGTHS[field.type]
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    expected = f"{count} numbers separated by spaces" + (
        " (4 rows of 4, rows separated by commas)" if field.type is FieldType.MATRIX else ""
    )
    if len(parts) != count:
        raise FieldValueError(field.name, f"{text!r} has {len(parts)} numbers; expected {expected}")
    try:
        numbers = tuple(float(p) for p in parts)
    except ValueError:
        raise FieldValueError(field.name, f"{text!r} is not numeric; expected {expected}") from None
    if not all(math.isfinite(n) for n in numbers):
        raise FieldValueError(field.name, f"{text!r} holds a non-finite number")
    return numbers


def parse(field: Field, value: Any) -> Any:
    """Return the typed value of ``field`` for ``value`` (text or already typed).

    Raises
    ------
    FieldValueError
        If the value breaks the field's rule; the message names the field and the rule.
    """
    kind = field.type
    if kind is FieldType.TRIGGER:
        raise FieldValueError(field.name, "is a trigger; it has no value to set")
    if kind is FieldType.BOOL:
        return value if isinstance(value, bool) else _parse_bool(field, str(value))
    if kind is FieldType.INTEGER:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise FieldValueError(field.name, f"{value!r} is not an integer") from None
        if field.minimum is not None and number < field.minimum:
            raise FieldValueError(field.name, f"{number} is below the minimum {field.minimum}")
        return number
    if kind is FieldType.ENUM:
        found = field.enum_value(str(value))
        if found is None:
            names = [v.name for v in field.enum_values]
            shown = ", ".join(names) if len(names) <= 12 else f"{names[0]} ... {names[-1]}"
            raise FieldValueError(field.name, f"{value!r} is not one of {shown}")
        return found.name
    if kind in _VECTOR_LENGTHS:
        if isinstance(value, str) or not hasattr(value, "__iter__"):  # text, or one number
            return _parse_numbers(field, str(value))
        try:
            text = " ".join(str(float(v)) for v in _flatten(value))
        except (TypeError, ValueError):  # a saved flow's value can be anything plain
            raise FieldValueError(field.name, f"{value!r} is not a list of numbers") from None
        return _parse_numbers(field, text)
    text = str(value)
    if field.syntax == "regex" and text:
        try:
            LineFilter(text)
        except LineFilterError as error:
            raise FieldValueError(field.name, str(error).split(": ", 1)[1]) from None
    elif field.syntax == "print-list":
        try:
            parse_print_lists(text)
        except PrintListError as error:
            raise FieldValueError(field.name, str(error)) from None
    if field.vr:
        lines = text.splitlines() if field.multi_line else [text]
        for number, line in enumerate(lines, 1):
            problem = validate_dicom_text(field.vr, line.strip() if field.multi_line else line,
                                          max_length=field.max_length)
            if problem:
                where = f" (line {number})" if field.multi_line else ""
                raise FieldValueError(field.name, problem + where)
    return text


def _flatten(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in value:
        if isinstance(item, (list, tuple)) or hasattr(item, "__len__") and not isinstance(
            item, str
        ):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def format_value(field: Field, value: Any) -> str:
    """Return the text form of a typed value, as the documentation writes it."""
    kind = field.type
    if kind is FieldType.BOOL:
        return "TRUE" if value else "FALSE"
    if kind is FieldType.MATRIX:
        rows = [" ".join(_number_text(v) for v in value[r * 4 : r * 4 + 4]) for r in range(4)]
        return ", ".join(rows)
    if kind in (FieldType.VECTOR3, FieldType.VECTOR6):
        return " ".join(_number_text(v) for v in value)
    if kind is FieldType.TRIGGER:
        return ""
    return str(value)


def uid_lines(text: str) -> list[str]:
    """The non-empty lines of a newline-separated UID field, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def uid_groups(text: str) -> list[list[str]]:
    """The groups of lines of a UID field, groups separated by empty lines."""
    groups: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            groups[-1].append(line.strip())
        elif groups[-1]:
            groups.append([])
    return [g for g in groups if g]
