"""The field table against the module documentation, and each field's value rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dicomreg.core.fields import (
    FIELDS,
    FieldType,
    FieldValueError,
    UnknownFieldError,
    field_by_name,
    format_value,
    parse,
)

# Every field name the module documentation writes, with its type and deprecated name.
DOCUMENTED = {
    "unresolvedFileName": ("String", "unresolvedDcmInputFileName"),
    "absoluteFileName": ("String", "dcmInputFileName"),
    "inputSelector": ("Enum", "inheritanceInput"),
    "inputVolumeIndex": ("Integer", "ddiOutVolIdx"),
    "numVolumes": ("Integer", "numDDIVolumes"),
    "dumpPrivateTagValues": ("Bool", None), "numShownBinaryEntries": ("Integer", None),
    "annotate": ("Bool", None), "regExLineFilter": ("String", None),
    "tagDump": ("String", None), "inheritDICOMTags": ("Trigger", None),
    "copyOtherInputTags": ("Bool", None), "fileName": ("String", None),
    "postBadParamErrors": ("Bool", None), "patientsName": ("String", None),
    "patientID": ("String", None), "patientBirthDateYearEnum": ("Enum", None),
    "patientBirthDateYearString": ("String", None), "patientBirthDateMonthEnum": ("Enum", None),
    "patientBirthDateMonthString": ("String", None), "patientBirthDateDayEnum": ("Enum", None),
    "patientBirthDateDayString": ("String", None), "patientSexEnum": ("Enum", None),
    "patientSexString": ("String", None), "studyInstanceUID": ("String", None),
    "createStudyInstanceUID": ("Trigger", None), "autoCreateStudyInstanceUID": ("Bool", None),
    "studyDate": ("String", None), "studyTime": ("String", None),
    "referringPhysicianName": ("String", None), "studyUID": ("String", None),
    "accessionNumber": ("String", None), "studyDescription": ("String", None),
    "seriesInstanceUID": ("String", None), "createSeriesInstanceUID": ("Trigger", None),
    "autoCreateSeriesInstanceUID": ("Bool", None), "seriesNumber": ("String", None),
    "inheritSeriesNumber": ("Bool", None), "laterality": ("Enum", None),
    "useEmptyLateralityTagIfNotFoundOnInheritance": ("Bool", None),
    "seriesDescription": ("String", None), "frameOfReferenceUID": ("String", None),
    "positionReferenceIndicator": ("String", None), "manufacturer": ("String", None),
    "manufacturerModelName": ("String", None), "deviceSerialNumber": ("String", None),
    "softwareVersions": ("String", None), "contentDate": ("String", None),
    "contentTime": ("String", None), "contentLabel": ("String", None),
    "contentDescription": ("String", None), "contentCreatorsName": ("String", None),
    "sourceFrameOfReferenceUID": ("String", None),
    "worldMatrixInheritanceSource": ("Enum", None),
    "sourceFrameOfReferenceUIDInheritanceSource": ("Enum", None),
    "imagePositionPatient": ("Vector3", None), "imageOrientationPatient": ("Vector6", None),
    "preDeformationMatrix": ("Matrix", None), "preDeformationMatrixType": ("Enum", None),
    "postDeformationMatrix": ("Matrix", None), "postDeformationMatrixType": ("Enum", None),
    "inputConnectorSelector": ("Enum", None),
    "clearReferencedImageSequenceFields": ("Trigger", None),
    "updateReferencedImageSequenceUIDInheritance": ("Trigger", None),
    "referencedFrameNumbers": ("String", None), "referencedSegmentNumbers": ("String", None),
    "referencedImageSequenceReferencedSOPClassUIDs": ("String", None),
    "referencedImageSequenceReferencedSOPInstanceUIDs": ("String", None),
    "autoUpdateOnStudyInstanceUIDChanges": ("Bool", None),
    "updateUIDInheritance": ("Trigger", None), "referencedSeriesClear": ("Trigger", None),
    "referencedSeriesReferencedSOPClassUIDs": ("String", None),
    "referencedSeriesReferencedSOPInstanceUIDs": ("String", None),
    "referencedSeriesSeriesInstanceUID": ("String", None),
    "referencedStudiesClear": ("Trigger", None),
    "referencedStudiesReferencedSOPClassUIDs": ("String", None),
    "referencedStudiesReferencedSOPInstanceUIDs": ("String", None),
    "commonInstanceReferenceStudyInstanceUID": ("String", None),
    "referencedStudiesSeriesInstanceUID": ("String", None),
}


def test_every_documented_field_is_declared_with_its_type_and_deprecated_name():
    for name, (kind, deprecated) in DOCUMENTED.items():
        field = field_by_name(name)
        assert field.name == name and field.type.value == kind, name
        if deprecated:
            assert deprecated in field.deprecated_names
            assert field_by_name(deprecated) is field
        assert not field.extension, name


def test_only_named_extensions_are_added():
    extra = {f.name for f in FIELDS} - set(DOCUMENTED)
    assert extra == {"tagDumpSize", "save", "status", "instanceNumber", "bodyPartExamined",
                     "inheritEquipment", "undoInheritance"}
    assert all(field_by_name(name).extension for name in extra)


def test_documented_defaults_and_persistence():
    assert field_by_name("inputSelector").default == "ImageConnector #0"
    assert field_by_name("preDeformationMatrix").default == "1 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1"
    assert field_by_name("imageOrientationPatient").default == "1 0 0 0 1 0"
    assert field_by_name("laterality").default == "WriteEmptyTagValue"
    assert field_by_name("inputConnectorSelector").default == "ImageConnector #1"
    assert field_by_name("postBadParamErrors").default == "TRUE"
    for name in ("absoluteFileName", "numVolumes", "tagDump", "status"):
        assert not field_by_name(name).persistent
    for field in FIELDS:
        if field.type is not FieldType.TRIGGER:
            parse(field, field.default)  # every default is valid
        if field.type is FieldType.ENUM:
            assert field.enum_value(field.default) is not None, field.name


def test_unknown_name_suggests_close_names():
    with pytest.raises(UnknownFieldError, match="did you mean contentLabel"):
        field_by_name("contentLable")


def test_enum_accepts_deprecated_value_names_and_titles():
    field = field_by_name("inputSelector")
    assert parse(field, "ImageConnector") == "ImageConnector #0"
    assert parse(field, "Base Connector") == "BaseConnector"
    with pytest.raises(FieldValueError, match="inputSelector: 'Nope' is not one of"):
        parse(field, "Nope")


@pytest.mark.parametrize("value", ["1.2.3", "0", "0.0.1", "1.2.840.10008.5.1.4.1.1.66.3",
                                   "1." + "2" * 62])
def test_valid_uids(value):
    assert parse(field_by_name("studyInstanceUID"), value) == value


@pytest.mark.parametrize(("value", "rule"), [
    ("1.02.3", "leading zero"), ("1..2", "empty component"), ("1.2.", "empty component"),
    (".1", "empty component"), ("1.2a", "component"), ("1." + "2" * 63, "at most 64"),
    ("1.2 3", "component"),
])
def test_invalid_uids_name_the_field_and_rule(value, rule):
    with pytest.raises(FieldValueError, match=rf"^studyInstanceUID: .*{rule}"):
        parse(field_by_name("studyInstanceUID"), value)


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=8))
def test_uid_rule_matches_the_standard_grammar(components):
    text = ".".join(str(c) for c in components)
    field = field_by_name("frameOfReferenceUID")
    if len(text) <= 64:
        assert parse(field, text) == text
    else:
        with pytest.raises(FieldValueError):
            parse(field, text)


@given(st.text(min_size=1, max_size=70))
def test_uid_rule_refuses_what_the_grammar_refuses(text):
    valid = len(text) <= 64 and re.fullmatch(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*", text)
    field = field_by_name("seriesInstanceUID")
    if valid:
        assert parse(field, text) == text
    else:
        with pytest.raises(FieldValueError):
            parse(field, text)


@pytest.mark.parametrize("value", ["REGISTRATION", "DIR_CT_CBCT", "A B 12", "X" * 16])
def test_content_label_accepts_cs(value):
    assert parse(field_by_name("contentLabel"), value) == value


@pytest.mark.parametrize("value", ["registration", "Reg", "A-B", "X" * 17, "ÄB"])
def test_content_label_refuses_non_cs(value):
    with pytest.raises(FieldValueError, match="^contentLabel: "):
        parse(field_by_name("contentLabel"), value)


@pytest.mark.parametrize(("name", "good", "bad"), [
    ("studyDate", "20240229", "20230229"), ("studyDate", "19991231", "1999-12-31"),
    ("contentDate", "20260101", "20260101-20260102"),
    ("studyTime", "093000", "25"), ("studyTime", "093000.123456", "0930-1000"),
    ("contentTime", "10", "1060"),
])
def test_dates_and_times(name, good, bad):
    field = field_by_name(name)
    assert parse(field, good) == good
    with pytest.raises(FieldValueError, match=f"^{name}: "):
        parse(field, bad)


@pytest.mark.parametrize("value", ["1", "-5", "2147483647", "-2147483647", "000000000001"])
def test_series_number_accepts_integers_in_range(value):
    assert parse(field_by_name("seriesNumber"), value) == value


@pytest.mark.parametrize(("value", "rule"), [
    ("2147483648", "range"), ("-2147483648", "range"), ("1234567890123", "at most 12"),
    ("1.5", "integer"), ("x", "integer"),
])
def test_series_number_refuses(value, rule):
    with pytest.raises(FieldValueError, match=f"^seriesNumber: .*{rule}"):
        parse(field_by_name("seriesNumber"), value)


def test_vectors_and_matrices_in_documented_text_forms():
    matrix = field_by_name("preDeformationMatrix")
    identity = parse(matrix, "1 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1")
    assert identity == parse(matrix, "1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1")
    assert format_value(matrix, identity) == matrix.default
    assert parse(field_by_name("imagePositionPatient"), "1.5 -2 3e1") == (1.5, -2.0, 30.0)
    for name, text, message in [
        ("imagePositionPatient", "1 2", "has 2 numbers; expected 3"),
        ("imageOrientationPatient", "1 0 0 0 1", "has 5 numbers; expected 6"),
        ("preDeformationMatrix", "1 0 0 0", "has 4 numbers; expected 16"),
        ("imagePositionPatient", "1 2 x", "not numeric"),
        ("imagePositionPatient", "1 2 nan", "non-finite"),
    ]:
        with pytest.raises(FieldValueError, match=f"^{name}: .*{message}"):
            parse(field_by_name(name), text)


@pytest.mark.parametrize(("text", "value"), [("TRUE", True), ("false", False), ("1", True),
                                              ("0", False)])
def test_bools(text, value):
    assert parse(field_by_name("annotate"), text) is value


def test_bool_and_integer_errors():
    with pytest.raises(FieldValueError, match="^annotate: 'maybe' is not a Bool"):
        parse(field_by_name("annotate"), "maybe")
    with pytest.raises(FieldValueError, match="^inputVolumeIndex: -1 is below the minimum 0"):
        parse(field_by_name("inputVolumeIndex"), "-1")


def test_multi_line_uid_fields_check_each_line():
    field = field_by_name("referencedImageSequenceReferencedSOPInstanceUIDs")
    assert parse(field, "1.2.3\n1.2.4\n") == "1.2.3\n1.2.4\n"
    with pytest.raises(FieldValueError, match=r"line 2"):
        parse(field, "1.2.3\n1.02.4")


def test_text_fields_follow_their_vr():
    assert parse(field_by_name("patientsName"), "Müller^Jörg") == "Müller^Jörg"
    with pytest.raises(FieldValueError, match="^patientID: .*at most 64"):
        parse(field_by_name("patientID"), "x" * 65)
    with pytest.raises(FieldValueError, match="^accessionNumber: .*backslash"):
        parse(field_by_name("accessionNumber"), "A\\B")
