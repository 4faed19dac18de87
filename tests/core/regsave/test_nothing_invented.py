"""A file that claims to be clean is clean, and nothing is invented: the patient, a new
study, the Common Instance Reference against the references, float32 vectors, a damaged
slice of the referenced series. dciodvfy (conftest's counter) and pydicom are the oracles."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from conftest import dciodvfy_counts, write_field

from dicomreg.core.cli.main import main
from dicomreg.core.deformation import read_displacement_field
from dicomreg.core.dicom import read_volume
from dicomreg.core.regsave import BadParameterError, DicomREGSave

FRAMES = ["--set", "frameOfReferenceUID=1.2.826.0.1.3680043.8.498.1",
          "--set", "sourceFrameOfReferenceUID=1.2.826.0.1.3680043.8.498.2"]


def test_no_source_invents_no_patient_and_dates_its_new_study(case, tmp_path):
    out = tmp_path / "x.dcm"
    assert main(["save", str(case.field), "-o", str(out), "--no-dciodvfy", *FRAMES]) == 0
    ds = pydicom.dcmread(out)
    for keyword in ("PatientID", "PatientBirthDate", "PatientSex", "PatientName"):
        assert keyword in ds and ds[keyword].is_empty, keyword  # Type 2: present, unknown
    assert len(ds.StudyDate) == 8 and len(ds.StudyTime) == 6 and ds.StudyID
    assert ds.StudyDate == ds.StudyID[:8] and int(ds.SeriesNumber) == 1
    assert "ContentCreatorName" in ds and ds.ContentCreatorName == ""
    errors, warnings = dciodvfy_counts(out)
    assert errors == []
    # The honest two: the patient is unknown; so is the side (no Body Part Examined).
    assert len(warnings) == 2
    assert warnings[0].endswith("needed to build DICOMDIR - Patient ID")
    assert "<Laterality>" in warnings[1]


def test_inherited_study_date_is_not_a_new_studys(case, tmp_path):
    out = tmp_path / "x.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(out), "--no-dciodvfy", "--set",
                 "autoCreateStudyInstanceUID=TRUE"]) == 0
    ds = pydicom.dcmread(out)
    fixed = pydicom.dcmread(sorted(case.fixed.iterdir())[0])
    assert ds.StudyInstanceUID != fixed.StudyInstanceUID
    assert ds.StudyDate != fixed.StudyDate and ds.StudyID != fixed.StudyID
    assert ds.PatientBirthDate == fixed.PatientBirthDate  # the patient is the same
    # both series are now in other studies than the REG's
    assert "ReferencedSeriesSequence" not in ds
    assert len(ds.StudiesContainingOtherReferencedInstancesSequence) == 1
    assert dciodvfy_counts(out) == ([], [])


def _module(case, tmp_path) -> DicomREGSave:
    module = DicomREGSave()
    module.input0 = read_displacement_field(case.field)
    module.input0.datasets = read_volume(case.fixed).datasets
    module.input1 = read_volume(case.moving)
    module.set_many({"worldMatrixInheritanceSource": "IMAGE_INPUT",
                     "fileName": str(tmp_path / "reg.dcm")})
    module.inheritDICOMTags()
    module.updateReferencedImageSequenceUIDInheritance()
    return module


def test_clearing_the_references_clears_the_common_instance_reference(case, tmp_path):
    module = _module(case, tmp_path)
    module.clearReferencedImageSequenceFields()
    path = module.save()
    ds = pydicom.dcmread(path)
    assert "ReferencedSeriesSequence" not in ds
    assert "StudiesContainingOtherReferencedInstancesSequence" not in ds
    assert dciodvfy_counts(path)[0] == []


def test_validate_reports_a_reference_module_listing_unreferenced_instances(case, tmp_path,
                                                                             capsys):
    path = _module(case, tmp_path).save()
    ds = pydicom.dcmread(path)
    del ds.DeformableRegistrationSequence[0].ReferencedImageSequence
    broken = tmp_path / "broken.dcm"
    ds.save_as(broken)
    assert dciodvfy_counts(broken)[0]  # dciodvfy rejects it ...
    assert main(["validate", str(broken), "--no-dciodvfy"]) == 1  # ... and so do we
    assert "that no Referenced Image Sequence references" in capsys.readouterr().out


def test_a_new_study_without_auto_update_is_refused(case, tmp_path):
    module = _module(case, tmp_path)
    module.set_many({"autoUpdateOnStudyInstanceUIDChanges": False,
                     "sourceFrameOfReferenceUID": module.get("frameOfReferenceUID"),
                     "inputConnectorSelector": "ImageConnector #0"})
    module.updateReferencedImageSequenceUIDInheritance()  # the fixed series: the REG's study
    module.set("autoCreateStudyInstanceUID", True)
    with pytest.raises(BadParameterError, match="listed under the REG's own study, but "
                       "instance .* in study"):
        module.save()
    assert not (tmp_path / "reg.dcm").exists()


def test_hand_typed_references_are_not_sent_to_update_uid_inheritance(case, tmp_path):
    module = _module(case, tmp_path)
    module.clearReferencedImageSequenceFields()
    module.set_many({"referencedImageSequenceReferencedSOPClassUIDs": "1.2.840.10008.5.1.4.1.1.2",
                     "referencedImageSequenceReferencedSOPInstanceUIDs": "1.2.3.4"})
    with pytest.raises(BadParameterError, match="not known here .*referencedSeries fields"):
        module.save()


def test_a_float64_beyond_float32_is_refused_with_its_voxel_and_value(tmp_path):
    vectors = np.zeros((2, 3, 4, 3))
    vectors[1, 2, 3, 1] = 1e300
    field = write_field(tmp_path / "f.mha", vectors, origin=(0, 0, 0), spacing=(1, 1, 1),
                        direction=np.eye(3))
    out = tmp_path / "x.dcm"
    status = main(["save", str(field), "-o", str(out), "--no-dciodvfy", *FRAMES])
    assert status == 1 and not out.exists()


def test_a_float64_beyond_float32_message(tmp_path):
    from dicomreg.core.reg import check_vectors

    vectors = np.zeros((2, 3, 4, 3))
    vectors[1, 2, 3, 1] = 1e300
    (problem,) = check_vectors(vectors)
    assert "(x=3, y=2, z=1)" in str(problem) and "y = 1e+300" in str(problem)
    assert "float32" in str(problem)


def test_a_damaged_slice_of_the_moving_series_is_said(case, tmp_path, capsys):
    damaged = sorted(case.moving.iterdir())[1]
    damaged.write_bytes(damaged.read_bytes()[:300])
    out = tmp_path / "x.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(out), "--no-dciodvfy"]) == 0
    text = capsys.readouterr().out
    assert "3 instance(s) referenced, but 1 file(s)" in text and str(damaged) in text
