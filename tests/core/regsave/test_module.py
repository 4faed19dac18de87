"""The DicomREGSave module: fields, state, triggers, inheritance and its undo."""

from __future__ import annotations

import pytest
from conftest import fields_but_status, make_case

from dicomreg.core import BadParameterError, DicomREGSave
from dicomreg.core.deformation import read_displacement_field
from dicomreg.core.dicom import read_volume
from dicomreg.core.fields import FieldValueError


def loaded_module(case) -> DicomREGSave:
    module = DicomREGSave()
    module.input0 = read_displacement_field(case.field)
    module.input0.datasets = read_volume(case.fixed).datasets
    module.input1 = read_volume(case.moving)
    return module


def test_state_holds_persistent_fields_and_accepts_deprecated_names():
    module = DicomREGSave()
    module.set("contentLabel", "MY_LABEL")
    state = module.get_state()
    assert state["contentLabel"] == "MY_LABEL"
    assert "tagDump" not in state and "numVolumes" not in state and "status" not in state
    other = DicomREGSave()
    notes = other.set_state({**state, "inheritanceInput": "ImageConnector",
                             "ddiOutVolIdx": "3", "noSuchField": "x", "numVolumes": "4"})
    assert other.get("inputSelector") == "ImageConnector #0"
    assert other.get("inputVolumeIndex") == 3
    assert other.get("contentLabel") == "MY_LABEL"
    assert any("noSuchField" in n for n in notes) and any("numVolumes" in n for n in notes)


def test_a_bad_state_changes_nothing():
    module = DicomREGSave()
    before = module.values()
    with pytest.raises(FieldValueError, match="contentLabel"):
        module.set_state({"patientID": "NEW", "contentLabel": "lower case"})
    assert module.values() == before


def test_uid_triggers():
    module = DicomREGSave()
    study = module.trigger("createStudyInstanceUID")
    series = module.createSeriesInstanceUID()
    assert module.get("studyInstanceUID") == study and module.get("seriesInstanceUID") == series
    assert study != series
    with pytest.raises(FieldValueError, match="is a trigger"):
        module.set("save", "x")


def test_each_value_is_parsed_once_and_a_refused_one_changes_nothing(monkeypatch):
    import dicomreg.core.regsave.module as module_code

    parsed = []
    real = module_code.parse
    monkeypatch.setattr(module_code, "parse",
                        lambda field, value: parsed.append(field.name) or real(field, value))
    module = DicomREGSave()
    parsed.clear()  # the defaults
    module.set_many({"contentLabel": "ONE", "inheritanceInput": "File", "seriesNumber": "7"})
    module.set("annotate", "TRUE")
    assert sorted(parsed) == ["annotate", "contentLabel", "inputSelector", "seriesNumber"]
    with pytest.raises(FieldValueError, match="seriesNumber"):
        module.set_many({"contentLabel": "TWO", "seriesNumber": "seven"})
    assert module.get("contentLabel") == "ONE" and module.get("inputSelector") == "File"
    with pytest.raises(FieldValueError, match="save: is a trigger; call it"):
        module.set_many({"contentLabel": "TWO", "save": ""})
    assert module.get("contentLabel") == "ONE"


def test_inherit_reports_changes_and_undo_restores_hand_written_values(tmp_path):
    case = make_case(tmp_path)
    module = loaded_module(case)
    module.set_many({"patientsName": "Hand^Written", "seriesNumber": "77",
                     "patientSexEnum": "Female", "studyDescription": "mine"})
    before = fields_but_status(module)
    report = module.inheritDICOMTags()
    assert report.changes["patientsName"] == ("Hand^Written", "Phantom^Abdomen")
    assert report.changes["autoCreateStudyInstanceUID"] == (True, False)
    assert module.get("sourceFrameOfReferenceUID")  # from input1, the moving image
    assert module.get("frameOfReferenceUID") != module.get("sourceFrameOfReferenceUID")
    assert "patientsName: 'Hand^Written' -> 'Phantom^Abdomen'" in str(report)
    module.undoInheritance()
    assert fields_but_status(module) == before


def test_inherit_series_number_can_be_kept(tmp_path):
    module = loaded_module(make_case(tmp_path))
    module.set_many({"inheritSeriesNumber": "FALSE", "seriesNumber": "901"})
    module.inheritDICOMTags()
    assert module.get("seriesNumber") == "901"


def test_inherit_without_a_source_is_refused_and_changes_nothing():
    module = DicomREGSave()
    before = module.values()
    with pytest.raises(BadParameterError, match="inputSelector: input0 is not connected"):
        module.inheritDICOMTags()
    # No field changes; the status (an output) says why, as every refused trigger's does.
    after = module.values()
    assert after.pop("status").startswith("inheritDICOMTags not done: inputSelector:")
    assert after == {name: value for name, value in before.items() if name != "status"}


def test_post_bad_param_errors_off_reports_in_status_and_writes_nothing(tmp_path):
    module = loaded_module(make_case(tmp_path))
    module.inheritDICOMTags()
    module.set_many({"postBadParamErrors": "FALSE", "fileName": str(tmp_path / "out.dcm"),
                     "preDeformationMatrix": "3 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1"})
    assert module.save() is None
    assert module.status.startswith("not saved: preDeformationMatrix: it is RIGID_SCALE")
    assert not (tmp_path / "out.dcm").exists()
    module.set("postBadParamErrors", "TRUE")
    with pytest.raises(BadParameterError):
        module.save()


def test_failed_save_keeps_the_fields_as_they_were(tmp_path):
    module = loaded_module(make_case(tmp_path))
    module.inheritDICOMTags()
    module.set_many({"autoCreateStudyInstanceUID": "TRUE", "fileName": ""})
    before = module.values()
    with pytest.raises(BadParameterError, match="fileName"):
        module.save()
    module.set("fileName", str(tmp_path / "out.dcm"))
    module.set("contentLabel", "")
    before = fields_but_status(module)
    with pytest.raises(BadParameterError, match="ContentLabel .* Type 1 attribute is empty"):
        module.save()
    assert fields_but_status(module) == before


def test_successful_save_shows_the_auto_created_uids(tmp_path):
    module = loaded_module(make_case(tmp_path))
    module.inheritDICOMTags()
    module.updateReferencedImageSequenceUIDInheritance()
    module.set_many({"autoCreateStudyInstanceUID": "TRUE",
                     "fileName": str(tmp_path / "out.dcm")})
    old_study = module.get("studyInstanceUID")
    module.save()
    assert module.get("studyInstanceUID") != old_study
    # A new study: the moving instances now belong to another study than the REG.
    assert module.get("commonInstanceReferenceStudyInstanceUID")
    assert module.status.startswith("saved ")


def test_relative_file_names_resolve_against_the_base_dir(tmp_path, monkeypatch):
    module = DicomREGSave(base_dir=tmp_path)
    module.set("fileName", "sub/out.dcm")
    assert module.resolved_file_name() == tmp_path / "sub" / "out.dcm"
    monkeypatch.setenv("REGDIR", str(tmp_path))
    module.set("fileName", "$REGDIR/x.dcm")
    assert module.resolved_file_name() == tmp_path / "x.dcm"


def test_clear_triggers(tmp_path):
    module = loaded_module(make_case(tmp_path))
    module.inheritDICOMTags()
    module.updateReferencedImageSequenceUIDInheritance()
    assert module.get("referencedStudiesReferencedSOPInstanceUIDs").count("\n") == 3
    module.referencedStudiesClear()
    assert module.get("commonInstanceReferenceStudyInstanceUID") == ""
    module.clearReferencedImageSequenceFields()
    assert module.get("referencedImageSequenceReferencedSOPInstanceUIDs") == ""


@pytest.mark.parametrize("trigger", ["inheritDICOMTags",
                                     "updateReferencedImageSequenceUIDInheritance",
                                     "undoInheritance"])
def test_every_trigger_honours_post_bad_param_errors(trigger):
    module = DicomREGSave()
    with pytest.raises(BadParameterError):
        module.trigger(trigger)
    assert module.status.startswith(f"{trigger} not done: ")
    module.set("postBadParamErrors", "FALSE")
    module._set_status("")
    assert module.trigger(trigger) is None
    assert module.status.startswith(f"{trigger} not done: ")


def test_a_run_stops_at_a_refused_inheritance_without_post_bad_param_errors(tmp_path):
    case = make_case(tmp_path)
    module = loaded_module(case)
    module.set_many({"postBadParamErrors": "FALSE", "inputSelector": "File",
                     "fileName": str(tmp_path / "r.dcm")})
    result = module.run()
    assert result.path is None and not (tmp_path / "r.dcm").exists()
    assert "the selected source (File) is empty" in module.status


@pytest.mark.parametrize(("name", "value", "message"), [
    ("input0", "text", "input0: a str is not an image"),
    ("input1", 3, "input1: a int is not an image"),
    ("inputBase", ["a"], "inputBase: a list is neither a DICOM tree"),
    ("inputModifierList", "abc", "inputModifierList: a str is not a list of modifier plugins"),
    ("inputModifierList", [object()], "inputModifierList: item 0 is a object, not a modifier"),
])
def test_a_connector_refuses_what_it_does_not_take_until_given_what_it_takes(tmp_path, name,
                                                                           value, message):
    """In an editor any output can be wired to any input: each connector says what it takes
    when something else is set (a text at inputModifierList became a list of characters and
    the save failed later with an AttributeError). The refused connector is then empty, and
    the tag dump and a save name the refusal until it is given something it takes or nothing
    (a value kept from before would be used by a later save without a word)."""
    case = make_case(tmp_path, size=(6, 5, 3))
    module = DicomREGSave()
    module.input0 = module.input1 = read_volume(case.fixed)
    with pytest.raises(BadParameterError, match=message):
        setattr(module, name, value)
    assert getattr(module, name) in (None, [])
    ds, problems, _values = module.compose()
    assert ds is None and len(problems) == 1, problems
    assert str(problems[0]).startswith(message), problems
    setattr(module, name, None)  # unwired: nothing connected, nothing refused
    _ds, problems, _values = module.compose()
    assert not any(str(p).startswith(message) for p in problems), problems  # not refused
    module.inputModifierList = None  # nothing connected: an empty chain
    assert module.inputModifierList == []
