"""The fields that are not written as they are: birth date, sex and laterality, both ways.

The expected attribute values are written out here (months by their English names, sex by
PS3.3's codes), not taken from the module under test.
"""

from __future__ import annotations

import pytest

from dicomreg.core.fields import (
    FIELDS,
    FROM_ATTRIBUTE,
    TO_ATTRIBUTE,
    USER_DEFINED,
    FieldType,
    FieldValueError,
    birth_date_fields,
    field_by_name,
    inherited_laterality,
    laterality_attribute,
    parse,
    patient_birth_date,
    patient_sex,
    sex_fields,
)

ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")
SEX = {"Male": "M", "Female": "F", "Other": "O"}


def default_values() -> dict:
    return {f.name: parse(f, f.default) for f in FIELDS if f.type is not FieldType.TRIGGER}


def _values(**changes: str) -> dict:
    values = default_values()
    for name, text in changes.items():
        values[name] = parse(field_by_name(name), text)
    return values


def _enum_texts(name: str) -> list[tuple[str, str]]:
    """(name or title given, the enum name it stands for) for each value but User Defined."""
    values = [v for v in field_by_name(name).enum_values if v.name != USER_DEFINED]
    return [(text, v.name) for v in values for text in dict.fromkeys((v.name, v.title))]


@pytest.mark.parametrize(("given", "name"), _enum_texts("patientBirthDateMonthEnum"))
def test_each_month_round_trips(given, name):
    number = name.split("-")[0]
    assert ENGLISH_MONTHS[int(number) - 1] in name
    values = _values(patientBirthDateYearEnum="1980", patientBirthDateMonthEnum=given,
                     patientBirthDateDayEnum="07")
    date = patient_birth_date(values)
    assert date == f"1980{number}07"
    back = birth_date_fields(date)
    assert back["patientBirthDateMonthEnum"] == name
    assert back["patientBirthDateYearEnum"] == "1980"
    assert back["patientBirthDateDayEnum"] == "07"
    assert patient_birth_date({**values, **back}) == date


def test_month_count_and_unknown_dates():
    assert len(_enum_texts("patientBirthDateMonthEnum")) == 12
    empty = birth_date_fields("")
    assert set(empty.values()) == {USER_DEFINED, ""}
    assert patient_birth_date({**default_values(), **empty}) == ""
    # A year outside the enum, or a month no enum value names, stays User Defined.
    odd = birth_date_fields("18501307")
    assert odd["patientBirthDateYearEnum"] == odd["patientBirthDateMonthEnum"] == USER_DEFINED
    assert (odd["patientBirthDateYearString"], odd["patientBirthDateMonthString"]) == ("1850",
                                                                                       "13")


@pytest.mark.parametrize(("given", "name"), _enum_texts("patientSexEnum"))
def test_each_sex_round_trips(given, name):
    code = patient_sex(_values(patientSexEnum=given))
    assert code == SEX[name]
    assert sex_fields(code) == {"patientSexEnum": name, "patientSexString": name}


@pytest.mark.parametrize(("text", "code"), [("m", "M"), ("F", "F"), ("other", "O"),
                                            (" Female ", "F"), ("", "")])
def test_user_defined_sex_strings(text, code):
    assert patient_sex(_values(patientSexEnum=USER_DEFINED, patientSexString=text)) == code


def test_unknown_sex_is_refused_and_kept_on_inheritance():
    with pytest.raises(FieldValueError, match="patientSexString: 'X' is not M, F, O"):
        patient_sex(_values(patientSexEnum=USER_DEFINED, patientSexString="X"))
    assert sex_fields("x") == {"patientSexEnum": USER_DEFINED, "patientSexString": "X"}
    assert sex_fields("") == {"patientSexEnum": USER_DEFINED, "patientSexString": ""}


@pytest.mark.parametrize(("given", "written"), [
    ("L", "L"), ("R", "R"), ("WriteEmptyTagValue", ""), ("Write Empty Tag Value", ""),
    ("DoNotWriteTagValue", None), ("Do Not Write Tag Value", None)])
def test_laterality_attribute(given, written):
    assert laterality_attribute(_values(laterality=given)) == written


@pytest.mark.parametrize(("sides", "paired", "use_empty", "expected"), [
    (("L", ""), None, True, "L"),
    (("", "R"), False, True, "R"),  # a stated side wins over the body part
    (("B", "L"), True, False, "L"),
    (("", ""), False, True, "DoNotWriteTagValue"),  # unpaired: must be absent
    (("", ""), True, True, "WriteEmptyTagValue"),
    (("", ""), None, True, "WriteEmptyTagValue"),
    (("", ""), None, False, "DoNotWriteTagValue"),
])
def test_inherited_laterality(sides, paired, use_empty, expected):
    assert inherited_laterality(sides, paired, use_empty) == expected
    assert laterality_attribute({"laterality": expected}) in ("L", "R", "", None)


def test_converted_fields_are_those_whose_tag_names_the_attribute():
    tags = {name: field_by_name(name).tag for name in TO_ATTRIBUTE}
    assert tags == {"patientBirthDateYearEnum": "PatientBirthDate",
                    "patientSexEnum": "PatientSex", "laterality": "Laterality"}
    assert set(FROM_ATTRIBUTE) <= set(TO_ATTRIBUTE)
