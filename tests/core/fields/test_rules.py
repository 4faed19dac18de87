"""The rules between fields: enums by title and translation, String twins, outputs,
insensitive fields, distinct trigger titles, and the deviations in the reference."""

from __future__ import annotations

import pytest

from dicomreg.core import BadParameterError, DicomREGSave
from dicomreg.core.cli.main import main
from dicomreg.core.fields import FIELDS, FieldType, field_by_name, insensitivity_notes, parse


@pytest.mark.parametrize("text", ["03-March", "March", "march", "Mar", "03", "3"])
def test_the_month_enum_accepts_the_documented_translations(text):
    assert parse(field_by_name("patientBirthDateMonthEnum"), text) == "03-March"


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("patientSexEnum", "M", "Male"), ("patientSexEnum", "female", "Female"),
    ("patientBirthDateDayEnum", "5", "05"), ("inputSelector", "Image Connector #1",
                                            "ImageConnector #1"),
    ("laterality", "write empty tag value", "WriteEmptyTagValue")])
def test_enums_accept_names_titles_and_codes(name, text, expected):
    assert parse(field_by_name(name), text) == expected


def test_no_two_values_of_an_enum_answer_to_the_same_text():
    for f in (f for f in FIELDS if f.type is FieldType.ENUM):
        for value in f.enum_values:
            for text in (value.name, value.title, *value.aliases):
                assert f.enum_value(text) == value, (f.name, text)


@pytest.mark.parametrize(("enum", "value", "string", "expected"), [
    ("patientSexEnum", "Male", "patientSexString", "Male"),
    ("patientBirthDateYearEnum", "1985", "patientBirthDateYearString", "1985"),
    ("patientBirthDateMonthEnum", "March", "patientBirthDateMonthString", "03-March"),
    ("patientBirthDateDayEnum", "7", "patientBirthDateDayString", "07")])
def test_a_string_follows_its_enum_and_is_refused_unless_user_defined(enum, value, string,
                                                                       expected):
    module = DicomREGSave()
    module.set(enum, value, by_hand=True)
    assert module.get(string) == expected
    with pytest.raises(BadParameterError, match=f"{string}: can be set only while {enum} is "
                       "'User Defined'"):
        module.set(string, "12", by_hand=True)
    assert module.get(string) == expected
    # Together with User Defined (in any order), the string is taken and kept.
    module.set_many({string: "12", enum: "User Defined"}, by_hand=True)
    assert module.get(string) == "12" and module.get(enum) == "User Defined"


def test_command_line_month_by_name_and_a_refused_twin(tmp_path, capsys):
    from conftest import make_case
    from pydicom import dcmread

    case = make_case(tmp_path)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy", "--set", "patientBirthDateMonthEnum=March",
                 "--set", "patientBirthDateYearEnum=1985", "--set", "patientSexEnum=Male",
                 "--set", "patientBirthDateDayEnum=09"]) == 0
    ds = dcmread(out)
    assert (ds.PatientBirthDate, ds.PatientSex) == ("19850309", "M")
    capsys.readouterr()
    out2 = tmp_path / "reg2.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(out2),
                 "--no-dciodvfy", "--set", "patientSexString=F"]) == 1
    err = capsys.readouterr().err
    assert "patientSexString: can be set only while patientSexEnum" in err
    assert not out2.exists()


def test_a_flow_saved_with_a_disagreeing_twin_loads_with_the_enum_winning():
    module = DicomREGSave()
    notes = module.set_state({"patientSexEnum": "Male", "patientSexString": "Other"})
    assert module.get("patientSexString") == "Male"
    assert any("patientSexString" in note for note in notes)


@pytest.mark.parametrize(("name", "value"), [("numVolumes", "3"), ("tagDump", "x"),
                                             ("absoluteFileName", "/x"), ("status", "s")])
def test_outputs_are_refused_when_set_but_the_module_updates_them(name, value):
    module = DicomREGSave()
    with pytest.raises(BadParameterError, match=f"{name}: is an output of the module"):
        module.set(name, value, by_hand=True)
    module.set("unresolvedFileName", "/a/b/../c.dcm")
    assert module.get("absoluteFileName") == "/a/c.dcm"  # the module itself still may


def test_outputs_are_refused_on_the_command_line_with_every_reason(tmp_path, capsys):
    from conftest import make_case

    case = make_case(tmp_path)
    assert main(["save", str(case.field), "-o", str(tmp_path / "r.dcm"), "--no-dciodvfy",
                 "--set", "numVolumes=3", "--set", "tagDump=x",
                 "--set", "absoluteFileName=/x"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "dicomreg save: error: 3 problems:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "numVolumes", "tagDump", "absoluteFileName"]


def test_insensitive_fields_are_declared_and_noted():
    assert field_by_name("unresolvedFileName").sensitive_when == ("inputSelector", ("File",))
    notes = insensitivity_notes(["unresolvedFileName", "contentLabel"],
                                {"inputSelector": "ImageConnector #0"})
    assert notes == ["unresolvedFileName has no effect while inputSelector is "
                     "ImageConnector #0 (only while it is File)"]
    assert insensitivity_notes(["unresolvedFileName"], {"inputSelector": "File"}) == []


def test_the_command_line_notes_an_insensitive_field(tmp_path, capsys):
    from conftest import make_case

    case = make_case(tmp_path)
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--no-dciodvfy",
                 "-o", str(tmp_path / "r.dcm"), "--set", "unresolvedFileName=x.dcm"]) == 0
    assert ("note: unresolvedFileName has no effect while inputSelector is "
            "ImageConnector #0") in capsys.readouterr().out


def test_every_trigger_has_a_distinct_title():
    titles = [f.title for f in FIELDS if f.type is FieldType.TRIGGER]
    assert len(set(titles)) == len(titles)


def test_every_field_has_a_distinct_title_the_documentations_with_the_name_where_two_meet():
    titles = [f.title for f in FIELDS]
    assert len(set(titles)) == len(titles), [t for t in titles if titles.count(t) > 1]
    assert field_by_name("unresolvedFileName").title == "File Name (unresolvedFileName)"
    assert field_by_name("fileName").title == "File Name (fileName)"
    assert field_by_name("patientsName").title == "Patients Name"  # unique: left as documented
    assert "same title" in field_by_name("fileName").deviation
    assert "Create new UID (createStudyInstanceUID)" in titles


def test_the_reference_renders_the_deviations():
    from conftest import ROOT

    from dicomreg.core.fields import field_reference

    text = field_reference(markdown=True)
    assert text.count("*Deviation from the documentation:*") == sum(
        1 for f in FIELDS if f.deviation)
    assert "grid" in field_by_name("imagePositionPatient").deviation
    assert (ROOT / "docs" / "fields.md").read_text() == text
