"""Inheritance from every source the module names, and the reference modules it fills."""

from __future__ import annotations

import pytest
from conftest import dciodvfy_counts, fields_but_status, make_case, write_multiframe
from pydicom import dcmread

from dicomreg.core import BadParameterError, DicomREGSave
from dicomreg.core.cli.main import main
from dicomreg.core.deformation import read_displacement_field
from dicomreg.core.dicom import read_volume, scan_volumes


def field_module(case, **connect) -> DicomREGSave:
    module = DicomREGSave()
    module.input0 = read_displacement_field(case.field)
    for name, value in connect.items():
        setattr(module, name, value)
    return module


def fixed_field_module(case, **connect) -> DicomREGSave:
    """:func:`field_module` whose field carries the fixed image's DICOM, as a field on the
    fixed grid does when its source node is connected to the fixed image."""
    module = field_module(case, **connect)
    module.input0.datasets = read_volume(case.fixed).datasets
    return module


def assert_no_field_changed(module, action, message):
    before = module.values()
    with pytest.raises(BadParameterError, match=message):
        action()
    after = module.values()
    for values in (before, after):
        values.pop("status")
        values.pop("absoluteFileName")  # an output: shows the resolved path tried
    assert after == before


# --- the four selector modes ---------------------------------------------------------------

def test_image_connector_1(tmp_path):
    case = make_case(tmp_path)
    module = field_module(case, input1=read_volume(case.moving))
    module.set("inputSelector", "ImageConnector #1")
    module.inheritDICOMTags()
    moving = dcmread(next(case.moving.iterdir()))
    assert module.get("studyInstanceUID") == moving.StudyInstanceUID
    assert module.get("frameOfReferenceUID") == moving.FrameOfReferenceUID


def test_file_with_home_variables_and_relative_paths(tmp_path, monkeypatch):
    case = make_case(tmp_path)
    first = sorted(case.fixed.iterdir())[0]
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("FIXEDDIR", str(case.fixed))
    for text in (f"~/fixed/{first.name}", f"$FIXEDDIR/{first.name}", f"fixed/{first.name}"):
        module = DicomREGSave(base_dir=tmp_path)
        module.input0 = read_displacement_field(case.field)
        module.set_many({"inputSelector": "File", "unresolvedFileName": text})
        assert module.get("absoluteFileName") == str(first)
        module.inheritDICOMTags()
        assert module.get("patientID") == "DICOMREG-SAMPLE-01"
    monkeypatch.chdir(tmp_path)
    module = DicomREGSave()  # no base directory: relative to the working directory
    module.set("unresolvedFileName", f"fixed/{first.name}")
    assert module.get("absoluteFileName") == str(first)


def test_base_connector_with_a_dicom_tree(tmp_path):
    case = make_case(tmp_path)
    module = field_module(case, inputBase=dcmread(sorted(case.fixed.iterdir())[0]))
    module.set("inputSelector", "BaseConnector")
    assert module.get("numVolumes") == 1
    module.inheritDICOMTags()
    assert module.get("studyDescription").startswith("FIXED")


def test_base_connector_with_a_volume_list_and_index(tmp_path):
    case = make_case(tmp_path)
    volumes = scan_volumes(tmp_path)
    module = field_module(case, inputBase=volumes)
    assert module.get("numVolumes") == 2
    module.set_many({"inputSelector": "BaseConnector", "inputVolumeIndex": "1"})
    module.inheritDICOMTags()
    assert module.get("seriesDescription") == "Moving CT"
    module.set("inputVolumeIndex", "0")
    module.inheritDICOMTags()
    assert module.get("seriesDescription") == "Fixed CT"


# --- the inheritance-source enums ----------------------------------------------------------

def test_world_matrix_from_dicom_or_from_the_image(tmp_path):
    case = make_case(tmp_path, origin=(5.0, 6.0, 7.0))
    module = fixed_field_module(case)
    module.input0.geometry = type(module.input0.geometry)(
        module.input0.geometry.size, module.input0.geometry.spacing, (1.0, 2.0, 3.0))
    module.set("worldMatrixInheritanceSource", "DICOM_INPUT")
    module.inheritDICOMTags()
    assert module.get("imagePositionPatient") == (5.0, 6.0, 7.0)
    module.set("worldMatrixInheritanceSource", "IMAGE_INPUT")
    module.inheritDICOMTags()
    assert module.get("imagePositionPatient") == (1.0, 2.0, 3.0)


def test_source_frame_from_dicom_or_from_the_referenced_image(tmp_path):
    case = make_case(tmp_path)
    module = fixed_field_module(case, input1=read_volume(case.moving))
    fixed_frame = dcmread(next(case.fixed.iterdir())).FrameOfReferenceUID
    moving_frame = dcmread(next(case.moving.iterdir())).FrameOfReferenceUID
    module.set("sourceFrameOfReferenceUIDInheritanceSource", "IMAGE_INPUT")
    module.inheritDICOMTags()
    assert module.get("sourceFrameOfReferenceUID") == moving_frame
    module.set("sourceFrameOfReferenceUIDInheritanceSource", "DICOM_INPUT")
    module.inheritDICOMTags()
    assert module.get("sourceFrameOfReferenceUID") == fixed_frame


# --- patient fields ------------------------------------------------------------------------

@pytest.mark.parametrize(("month", "expected"), [("03-March", "03"), ("March", "03"),
                                                  ("03", "03"), ("3", "03"), ("mar", "03"),
                                                  ("12-December", "12")])
def test_month_strings(month, expected):
    from dicomreg.core.fields import patient_birth_date

    module = DicomREGSave()
    module.set_many({"patientBirthDateYearEnum": "User Defined",
                     "patientBirthDateYearString": "1980",
                     "patientBirthDateMonthEnum": "User Defined",
                     "patientBirthDateMonthString": month,
                     "patientBirthDateDayEnum": "07"})
    assert patient_birth_date(module.values()) == f"1980{expected}07"


def test_birth_date_and_sex_from_the_source_and_their_user_defined_rules(tmp_path):
    from dicomreg.core.fields import patient_birth_date, patient_sex

    case = make_case(tmp_path)
    module = fixed_field_module(case)
    module.inheritDICOMTags()
    assert module.get("patientBirthDateMonthEnum") == "03-March"
    assert patient_birth_date(module.values()) == "19700315"
    assert patient_sex(module.values()) == "O"
    module.set_many({"patientSexEnum": "User Defined", "patientSexString": "F"})
    assert patient_sex(module.values()) == "F"
    # A string counts only when its enum says User Defined: setting it otherwise is refused
    # (it was accepted and then ignored), and it follows its enum.
    with pytest.raises(BadParameterError, match="patientSexString: can be set only while"):
        module.set_many({"patientSexEnum": "Male", "patientSexString": "F"})
    module.set("patientSexEnum", "Male")
    assert patient_sex(module.values()) == "M" and module.get("patientSexString") == "Male"


# --- what inheritance carries besides fields ------------------------------------------------

def test_copy_other_input_tags_never_copies_what_breaks_the_object(tmp_path):
    case = make_case(tmp_path)
    for path in case.fixed.iterdir():
        ds = dcmread(path)
        ds.InstitutionName, ds.PatientAge, ds.OperatorsName = "Clinic", "056Y", "Op^One"
        ds.save_as(path)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(out), "--no-dciodvfy",
                 "--set", "copyOtherInputTags=TRUE"]) == 0
    ds = dcmread(out)
    assert (ds.InstitutionName, ds.PatientAge, str(ds.OperatorsName)) == ("Clinic", "056Y",
                                                                          "Op^One")
    for keyword in ("PixelData", "Rows", "ImagePositionPatient", "SliceThickness", "ImageType"):
        assert keyword not in ds
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.3" and ds.Modality == "REG"
    errors, warnings = dciodvfy_counts(out)
    assert errors == []
    # What it copies beyond the REG's modules (KVP, acquisition times) is the documented
    # risk of the option: dciodvfy calls the result a Standard Extended SOP Class.
    assert all("not present in standard DICOM IOD" in w for w in warnings)


def test_copy_other_input_tags_off_copies_nothing_else(tmp_path):
    case = make_case(tmp_path)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy"]) == 0
    assert "KVP" not in dcmread(out) and "PatientPosition" not in dcmread(out)


def test_equipment_only_when_asked(tmp_path):
    case = make_case(tmp_path)
    module = fixed_field_module(case)
    module.inheritDICOMTags()
    assert module.get("manufacturer") == "ryven-dicomreg"
    module.set("inheritEquipment", "TRUE")
    report = module.inheritDICOMTags()
    assert module.get("manufacturer") == "dicomreg synthetic"
    assert "deviceSerialNumber" not in report.changes  # the source has none: ours is kept


# --- reference modules ---------------------------------------------------------------------

def test_multiframe_moving_image(tmp_path):
    case = make_case(tmp_path)
    moving = write_multiframe(tmp_path / "mf.dcm", frames=5)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving", str(moving),
                 "-o", str(out), "--no-dciodvfy"]) == 0
    assert dciodvfy_counts(out) == ([], [])
    ds = dcmread(out)
    reference = ds.DeformableRegistrationSequence[0].ReferencedImageSequence
    assert [r.ReferencedSOPInstanceUID for r in reference] == [dcmread(moving).SOPInstanceUID]
    assert "ReferencedFrameNumber" not in reference[0]  # all frames
    other = ds.StudiesContainingOtherReferencedInstancesSequence[0]
    assert other.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0] \
        .ReferencedSOPInstanceUID == dcmread(moving).SOPInstanceUID
    # A subset of frames is referenced by frame number.
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving", str(moving),
                 "-o", str(out), "--no-dciodvfy", "--set", "referencedFrameNumbers=2-4"]) == 0
    assert dciodvfy_counts(out) == ([], [])
    assert list(dcmread(out).DeformableRegistrationSequence[0].ReferencedImageSequence[0]
                .ReferencedFrameNumber) == [2, 3, 4]


def test_multiframe_geometry_for_dicom_input(tmp_path):
    moving = write_multiframe(tmp_path / "mf.dcm", frames=4, origin=(1.0, 2.0, 3.0))
    volume = read_volume(moving)
    assert volume.geometry.size == (8, 6, 4) and volume.geometry.origin == (1.0, 2.0, 3.0)
    assert volume.geometry.spacing == (2.0, 2.0, 3.0)


@pytest.mark.parametrize(("numbers", "message"), [
    ("2-9", "frame 9 is beyond the 5 frames"),
    ("1 : 1", "2 lists for 1 referenced images"),
])
def test_frame_numbers_beyond_the_frames(tmp_path, capsys, numbers, message):
    case = make_case(tmp_path)
    moving = write_multiframe(tmp_path / "mf.dcm", frames=5)
    status = main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                   str(moving), "-o", str(tmp_path / "reg.dcm"), "--set",
                   f"referencedFrameNumbers={numbers}"])
    assert status == 1 and message in capsys.readouterr().err
    assert not (tmp_path / "reg.dcm").exists()


def test_frame_and_segment_numbers_for_the_wrong_kind_of_instance(tmp_path, capsys):
    case = make_case(tmp_path)
    args = ["save", str(case.field), "--fixed", str(case.fixed), "--moving", str(case.moving),
            "-o", str(tmp_path / "reg.dcm")]
    assert main([*args, "--set", "referencedFrameNumbers=1"]) == 1
    assert "not a multi-frame image" in capsys.readouterr().err
    assert main([*args, "--set", "referencedSegmentNumbers=1"]) == 1
    assert "not a segmentation" in capsys.readouterr().err


def test_study_uid_changes_move_references_between_the_sequences(tmp_path):
    case = make_case(tmp_path, same_study=True)
    module = fixed_field_module(case, input1=read_volume(case.moving))
    module.inheritDICOMTags()
    module.updateReferencedImageSequenceUIDInheritance()
    assert module.get("referencedSeriesSeriesInstanceUID")  # same study
    assert not module.get("commonInstanceReferenceStudyInstanceUID")
    module.createStudyInstanceUID()  # another study: the references move
    assert not module.get("referencedSeriesSeriesInstanceUID")
    assert module.get("commonInstanceReferenceStudyInstanceUID")
    module.set("autoUpdateOnStudyInstanceUIDChanges", "FALSE")
    before = module.values()
    module.createStudyInstanceUID()
    for name in ("commonInstanceReferenceStudyInstanceUID",
                 "referencedStudiesReferencedSOPInstanceUIDs"):
        assert module.get(name) == before[name]


def test_referencing_another_patients_image_says_so_in_the_status(tmp_path):
    case = make_case(tmp_path)
    module = fixed_field_module(case, input1=read_volume(case.moving))
    module.inheritDICOMTags()
    module.updateReferencedImageSequenceUIDInheritance()
    assert "patient" not in module.get("status")  # the same patient
    module.set("patientID", "ATLAS_SUBJECT")
    module.updateReferencedImageSequenceUIDInheritance()
    assert "referenced image is of patient" in module.get("status")
    assert "the REG of 'ATLAS_SUBJECT'" in module.get("status")


def test_several_series_in_the_common_instance_reference(tmp_path):
    first = make_case(tmp_path / "a", seed=1)
    second = make_case(tmp_path / "b", seed=2)
    images = [read_volume(first.moving), read_volume(second.moving)]
    module = field_module(first, input1=images[0])
    module.input0.datasets = read_volume(first.fixed).datasets
    module.inheritDICOMTags()
    # Reference the instances of both moving series (two studies).
    from dicomreg.core.reg import reference_fields
    from dicomreg.core.regsave import instance_references

    references = instance_references(images[0]) + instance_references(images[1])
    module.set_many({
        "referencedImageSequenceReferencedSOPClassUIDs":
            "\n".join(r.sop_class_uid for r in references),
        "referencedImageSequenceReferencedSOPInstanceUIDs":
            "\n".join(r.sop_instance_uid for r in references),
        **reference_fields(references, module.get("studyInstanceUID")),
        "fileName": str(tmp_path / "reg.dcm"),
    })
    path = module.save()
    assert dciodvfy_counts(path) == ([], [])
    studies = dcmread(path).StudiesContainingOtherReferencedInstancesSequence
    assert len(studies) == 2
    assert sum(len(s.ReferencedSeriesSequence[0].ReferencedInstanceSequence)
               for s in studies) == 8


# --- errors change no field ----------------------------------------------------------------

def test_errors_name_the_field_or_connector_and_change_nothing(tmp_path):
    case = make_case(tmp_path)
    (tmp_path / "notdicom.txt").write_text("hello")
    module = field_module(case)
    module.set_many({"patientsName": "Hand^Written"})
    assert_no_field_changed(module, module.inheritDICOMTags,
                            "inputSelector: the image at input0 carries no DICOM")
    module.set("inputSelector", "BaseConnector")
    assert_no_field_changed(module, module.inheritDICOMTags,
                            "inputSelector: inputBase is not connected")
    module.inputBase = scan_volumes(tmp_path)
    module.set("inputVolumeIndex", "7")
    assert_no_field_changed(module, module.inheritDICOMTags,
                            "inputVolumeIndex: volume 7 does not exist; .* holds volumes 0 to 1")
    module.set_many({"inputSelector": "File", "unresolvedFileName": str(tmp_path / "no.dcm")})
    assert_no_field_changed(module, module.inheritDICOMTags, "absoluteFileName: .* does not "
                            "exist")
    module.set("unresolvedFileName", str(tmp_path / "notdicom.txt"))
    assert_no_field_changed(module, module.inheritDICOMTags,
                            "absoluteFileName: .* is not a DICOM file")
    module.set("inputSelector", "ImageConnector #1")
    assert_no_field_changed(module, module.inheritDICOMTags,
                            "inputSelector: input1 is not connected")
    module.set("inputSelector", "ImageConnector #0")
    assert_no_field_changed(module, module.updateReferencedImageSequenceUIDInheritance,
                            "inputConnectorSelector: input1 carries no DICOM image")
    assert module.get("patientsName") == "Hand^Written"


def test_directory_without_any_series(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no dicom here")
    assert main(["scan", str(tmp_path / "empty")]) == 1
    assert "holds no DICOM instance" in capsys.readouterr().err
    assert main(["scan", str(tmp_path / "nowhere")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_undo_restores_every_hand_written_value_including_references(tmp_path):
    case = make_case(tmp_path)
    module = fixed_field_module(case, input1=read_volume(case.moving))
    module.updateReferencedImageSequenceUIDInheritance()
    module.set_many({"patientsName": "Hand^Written", "studyInstanceUID": "1.2.3.4",
                     "seriesNumber": "12", "laterality": "R", "contentLabel": "MINE",
                     "imagePositionPatient": "1 2 3"})
    before = fields_but_status(module)
    report = module.inheritDICOMTags()
    assert "studyInstanceUID" in report.changes and "laterality" in report.changes
    module.undoInheritance()
    assert fields_but_status(module) == before


def test_a_segment_number_beyond_the_segmentations_segments_is_refused():
    from pydicom.dataset import Dataset
    from pydicom.uid import SegmentationStorage

    from dicomreg.core.image import Image
    from dicomreg.core.reg import check_fields
    from dicomreg.core.regsave.inherit import instance_references

    seg = Dataset()
    seg.SOPClassUID, seg.SOPInstanceUID = SegmentationStorage, "1.2.3.4"
    seg.SeriesInstanceUID, seg.StudyInstanceUID = "1.2.3", "1.2"
    seg.SegmentSequence = [Dataset(), Dataset()]
    (reference,) = instance_references(Image(voxels=None, geometry=None, datasets=[seg]))
    assert reference.number_of_segments == 2
    module = DicomREGSave()
    module.set_many({"referencedImageSequenceReferencedSOPClassUIDs": SegmentationStorage,
                     "referencedImageSequenceReferencedSOPInstanceUIDs": "1.2.3.4",
                     "referencedSegmentNumbers": "1-3"})
    problems = [str(p) for p in check_fields(module.values(), None, {"1.2.3.4": reference})]
    assert ("referencedSegmentNumbers: list 1: segment 3 is beyond the 2 segments of "
            "instance 1.2.3.4") in problems
    module.set("referencedSegmentNumbers", "1-2")
    problems = [str(p) for p in check_fields(module.values(), None, {"1.2.3.4": reference})]
    assert not any(p.startswith("referencedSegmentNumbers") for p in problems)
