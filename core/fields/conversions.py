"""The fields that are not written as they are: birth date, sex and laterality, both ways.

Every other field with a ``tag`` in the table is copied to (compose) and from (inherit) its
attribute unchanged. These three are not: Patient's Birth Date is made of six fields (year,
month and day, each an enum and a string used when the enum says User Defined), Patient's Sex
is a code (M, F, O) behind an enum of titles, and Laterality has two enum values that say
how to write no side (an empty value, or none at all).

:data:`TO_ATTRIBUTE` and :data:`FROM_ATTRIBUTE` are keyed by the field whose ``tag`` names the
attribute, so that the attribute is spelled once, in the table. Inheriting a laterality also
needs whether the source's body part is paired; that lookup is the standard's
(:func:`dicomreg.core.dicom.body_part_is_paired`, a layer above this one), so the caller
passes its answer in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dicomreg.core.fields.table import MONTHS, SEX_CODES, USER_DEFINED
from dicomreg.core.fields.values import FieldValueError, validate_dicom_text

__all__ = [
    "FROM_ATTRIBUTE",
    "TO_ATTRIBUTE",
    "birth_date_fields",
    "inherited_laterality",
    "laterality_attribute",
    "patient_birth_date",
    "patient_sex",
    "sex_fields",
]

_SIDES = ("L", "R")
_NO_SIDE_WRITTEN = "DoNotWriteTagValue"
_EMPTY_SIDE = "WriteEmptyTagValue"


def _month_number(text: str) -> str:
    """'03-March', 'March', 'mar', '3' and '03' all give '03'."""
    text = text.strip()
    if not text:
        return ""
    head = text.split("-", 1)[0].strip()
    if head.isdigit() and 1 <= int(head) <= 12:
        return f"{int(head):02d}"
    name = text.split("-", 1)[-1].strip().lower()
    for number, month in enumerate(MONTHS, 1):
        if len(name) >= 3 and month.lower().startswith(name):
            return f"{number:02d}"
    raise FieldValueError("patientBirthDateMonthString",
                          f"{text!r} is not a month; expected 01-12, 'March' or '03-March'")


def patient_birth_date(values: Mapping[str, Any]) -> str:
    """Patient's Birth Date (DA) from the year/month/day enums and strings ('' = unknown).

    Raises
    ------
    FieldValueError
        For a partial date, a year that is not 4 digits, an unknown month or an invalid date.
    """

    def part(enum: str, string: str) -> str:
        chosen = values[string] if values[enum] == USER_DEFINED else values[enum]
        return str(chosen).strip()

    year = part("patientBirthDateYearEnum", "patientBirthDateYearString")
    month = _month_number(part("patientBirthDateMonthEnum", "patientBirthDateMonthString"))
    day = part("patientBirthDateDayEnum", "patientBirthDateDayString")
    if not (year or month or day):
        return ""
    if not (year and month and day):
        raise FieldValueError("patientBirthDateYearString",
                              f"birth date has year {year!r}, month {month!r}, day {day!r}: "
                              "give all three, or leave all three empty for unknown")
    if not (year.isdigit() and len(year) == 4):
        raise FieldValueError("patientBirthDateYearString", f"{year!r} is not a 4-digit year")
    if not day.isdigit():
        raise FieldValueError("patientBirthDateDayString", f"{day!r} is not a day number")
    date = f"{year}{month}{int(day):02d}"
    problem = validate_dicom_text("DA", date)
    if problem:
        raise FieldValueError("patientBirthDateDayString", problem)
    return date


def birth_date_fields(date: str) -> dict[str, str]:
    """The six birth date fields for a Patient's Birth Date value (YYYYMMDD, or unknown)."""
    date = date.strip()
    if len(date) == 8 and date.isdigit():
        year, month, day = date[:4], int(date[4:6]), date[6:]
        known_month = 1 <= month <= 12
        month_text = f"{month:02d}-{MONTHS[month - 1]}" if known_month else date[4:6]
        return {
            "patientBirthDateYearEnum": year if 1900 <= int(year) <= 2100 else USER_DEFINED,
            "patientBirthDateYearString": year,
            "patientBirthDateMonthEnum": month_text if known_month else USER_DEFINED,
            "patientBirthDateMonthString": month_text,
            "patientBirthDateDayEnum": day, "patientBirthDateDayString": day,
        }
    # Unknown (empty) birth date: 'User Defined' with empty strings writes an empty value.
    return {
        "patientBirthDateYearEnum": USER_DEFINED, "patientBirthDateYearString": "",
        "patientBirthDateMonthEnum": USER_DEFINED, "patientBirthDateMonthString": "",
        "patientBirthDateDayEnum": USER_DEFINED, "patientBirthDateDayString": "",
    }


# What the sex string may say, lower case: a code, an enum title, or empty for unknown.
_SEX_OF_TEXT = {**{title.lower(): code for title, code in SEX_CODES.items()},
                **{code.lower(): code for code in SEX_CODES.values()}, "": ""}
_TITLE_OF_SEX = {code: title for title, code in SEX_CODES.items()}


def patient_sex(values: Mapping[str, Any]) -> str:
    """Patient's Sex (M, F, O or empty) from the sex enum and string.

    Raises
    ------
    FieldValueError
        If the string (for User Defined) is none of the codes, their titles or empty.
    """
    chosen = values["patientSexEnum"]
    if chosen == USER_DEFINED:
        chosen = values["patientSexString"]
    code = _SEX_OF_TEXT.get(str(chosen).strip().lower())
    if code is None:
        raise FieldValueError("patientSexString",
                              f"{chosen!r} is not M, F, O (Male, Female, Other) or empty")
    return code


def sex_fields(code: str) -> dict[str, str]:
    """The sex enum and string for a Patient's Sex value; another code is kept User Defined."""
    code = code.strip().upper()
    title = _TITLE_OF_SEX.get(code)
    return {"patientSexEnum": title or USER_DEFINED, "patientSexString": title or code}


def laterality_attribute(values: Mapping[str, Any]) -> str | None:
    """Laterality's value (L, R or empty) from the laterality enum; None: it is not written."""
    chosen = values["laterality"]
    if chosen in _SIDES:
        return chosen
    return "" if chosen == _EMPTY_SIDE else None


def inherited_laterality(sides: Iterable[str], paired: bool | None, use_empty: bool) -> str:
    """The laterality enum for a source.

    Parameters
    ----------
    sides
        The source's Laterality and Image Laterality values, in that order; the first that
        is L or R is taken.
    paired
        Whether the source's Body Part Examined is a paired structure; None when it has none
        or the term is unknown.
    use_empty
        ``useEmptyLateralityTagIfNotFoundOnInheritance``: an unknown side is written empty
        (True) or not at all (False).
    """
    for side in sides:
        if side.strip() in _SIDES:
            return side.strip()
    if paired is False:
        # Laterality is only for paired structures: with an unpaired body part it must be
        # absent (dciodvfy reports an empty one as an error too).
        return _NO_SIDE_WRITTEN
    # No body part, a paired one without a side, or a term we do not know: the side is
    # unknown, which an empty value says honestly; never invent one.
    return _EMPTY_SIDE if use_empty else _NO_SIDE_WRITTEN


#: field whose tag names the attribute -> its value from all field values (None: not written)
TO_ATTRIBUTE: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "patientBirthDateYearEnum": patient_birth_date,
    "patientSexEnum": patient_sex,
    "laterality": laterality_attribute,
}
#: field whose tag names the attribute -> the fields it sets from the attribute's text
#: (laterality needs more than its attribute: see :func:`inherited_laterality`)
FROM_ATTRIBUTE: dict[str, Callable[[str], dict[str, str]]] = {
    "patientBirthDateYearEnum": birth_date_fields,
    "patientSexEnum": sex_fields,
}
