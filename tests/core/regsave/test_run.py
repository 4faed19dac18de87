"""The one run sequence (DicomREGSave.run): inherit from the selected source, reference what
inputConnectorSelector names, re-apply the values set by hand, save."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import full_header_reads, make_case
from pydicom import dcmread

from dicomreg.core import BadParameterError, DicomREGSave
from dicomreg.core.cli.main import main
from dicomreg.core.deformation import read_displacement_field
from dicomreg.core.dicom import read_volume
from dicomreg.core.reg import SaveCancelledError


def connected(case, tmp_path, fixed_dicom: bool = True, moving: bool = True) -> DicomREGSave:
    module = DicomREGSave()
    module.input0 = read_displacement_field(case.field)
    if fixed_dicom:
        module.input0.datasets = read_volume(case.fixed).datasets
    module.input1 = read_volume(case.moving) if moving else None
    module.set("fileName", str(tmp_path / "reg.dcm"))
    return module


def uids(folder):
    return sorted(str(dcmread(path).SOPInstanceUID) for path in folder.iterdir())


def referenced(path):
    ds = dcmread(path)
    return sorted(str(item.ReferencedSOPInstanceUID)
                  for item in ds.DeformableRegistrationSequence[0].ReferencedImageSequence)


@pytest.mark.parametrize(("selector", "fixed_dicom", "message"), [
    ("ImageConnector #0", False, "the image at input0 carries no DICOM information to inherit"),
    ("ImageConnector #1", True, "input1 is not connected"),
    ("File", True, "no file to inherit from is set in unresolvedFileName"),
    ("BaseConnector", True, "inputBase is not connected"),
])
def test_an_empty_selected_source_is_refused_and_nothing_is_written(tmp_path, selector,
                                                                     fixed_dicom, message):
    case = make_case(tmp_path)
    module = connected(case, tmp_path, fixed_dicom=fixed_dicom,
                       moving=selector != "ImageConnector #1")
    module.set("inputSelector", selector)
    expected = f"inputSelector: {message}, so the selected source ({selector}) is empty; "
    with pytest.raises(BadParameterError, match=re.escape(expected)):
        module.run()
    assert not (tmp_path / "reg.dcm").exists()


@pytest.mark.parametrize(("connector", "series"), [("ImageConnector #1", "moving"),
                                                   ("ImageConnector #0", "fixed")])
def test_the_instances_of_the_input_connector_selector_are_referenced(tmp_path, connector,
                                                                      series):
    case = make_case(tmp_path)
    module = connected(case, tmp_path)
    module.set("inputConnectorSelector", connector)
    result = module.run()
    assert result.path == tmp_path / "reg.dcm" and result.references == 4
    assert referenced(result.path) == uids(tmp_path / series)


def test_nothing_is_referenced_when_the_selected_connector_has_no_dicom(tmp_path):
    case = make_case(tmp_path)
    module = connected(case, tmp_path, moving=False)
    module.set("sourceFrameOfReferenceUIDInheritanceSource", "DICOM_INPUT")
    result = module.run()
    assert result.references == 0
    assert "ReferencedImageSequence" not in dcmread(result.path).DeformableRegistrationSequence[0]


def test_values_set_by_hand_win_over_the_runs_inheritance(tmp_path):
    case = make_case(tmp_path)
    module = connected(case, tmp_path)
    module.set("patientsName", "Hand^Written", by_hand=True)
    module.set("studyDescription", "not by hand")
    assert module.overrides == {"patientsName": "Hand^Written"}
    result = module.run()
    ds = dcmread(result.path)
    assert str(ds.PatientName) == "Hand^Written"
    assert ds.StudyDescription != "not by hand"  # inherited: it was not set by hand
    assert module.overrides == {"patientsName": "Hand^Written"}  # kept for the next run


def test_inherit_forgets_the_values_set_by_hand_and_undo_brings_them_back(tmp_path):
    module = connected(make_case(tmp_path), tmp_path)
    module.set("patientsName", "Hand^Written", by_hand=True)
    module.inheritDICOMTags()
    assert module.overrides == {} and module.get("patientsName") == "Phantom^Abdomen"
    module.undoInheritance()
    assert module.overrides == {"patientsName": "Hand^Written"}
    assert module.get("patientsName") == "Hand^Written"


def test_a_cancel_before_the_save_writes_nothing(tmp_path):
    module = connected(make_case(tmp_path), tmp_path)
    asked = []

    def progress(fraction):
        asked.append(fraction)
        return len(asked) < 2  # cancelled after the inheritance

    with pytest.raises(SaveCancelledError):
        module.run(progress=progress)
    assert not (tmp_path / "reg.dcm").exists()
    assert module.get("patientID") == "DICOMREG-SAMPLE-01"  # it did inherit


def test_without_a_source_the_grid_is_the_fields_own(tmp_path):
    case = make_case(tmp_path, orientation=(0, 1, 0, -1, 0, 0))
    module = connected(case, tmp_path, fixed_dicom=False)
    module.set("frameOfReferenceUID", "1.2.3.4")
    result = module.run(inherit=False)
    ds = dcmread(result.path)
    grid = ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]
    assert np.allclose([float(v) for v in grid.ImageOrientationPatient], [0, 1, 0, -1, 0, 0])
    assert np.allclose([float(v) for v in grid.ImagePositionPatient], [-10.0, -8.0, -6.0])
    moving_frame = dcmread(next(case.moving.iterdir())).FrameOfReferenceUID
    assert ds.DeformableRegistrationSequence[0].SourceFrameOfReferenceUID == moving_frame
    assert result.report is None and result.references == 4


def test_dicomreg_save_references_what_the_selector_names(tmp_path, capsys):
    """The command line has no rule of its own: --moving connects input1, and which input is
    referenced is inputConnectorSelector's to say."""
    case = make_case(tmp_path)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(out), "--no-dciodvfy",
                 "--set", "inputConnectorSelector=ImageConnector #0"]) == 0
    assert referenced(out) == uids(case.fixed)


def test_dicomreg_save_with_an_empty_selected_source_says_so(tmp_path, capsys):
    case = make_case(tmp_path)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy", "--set", "inputSelector=File"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the selected source (File) is empty" in err[0]
    assert not out.exists()


def _attributes(path):
    """Every attribute of a REG, nested, but the UIDs, dates and times made for this save
    (and the file meta group's length, which follows the made UID's length: a UID one digit
    shorter made the two saves differ there about one run in six)."""
    made = {"SOPInstanceUID", "MediaStorageSOPInstanceUID", "SeriesInstanceUID",
            "FileMetaInformationGroupLength"}

    def walk(ds, prefix):
        for element in ds:
            key = f"{prefix}{element.keyword or element.tag}"
            if element.VR == "SQ":
                for index, item in enumerate(element.value):
                    yield from walk(item, f"{key}[{index}].")
            elif element.keyword not in made and element.VR not in ("DA", "TM", "DT"):
                yield key, element.value

    ds = dcmread(path)
    return dict(walk(ds, "")) | dict(walk(ds.file_meta, "meta."))


@pytest.mark.parametrize("settings", [
    {}, {"inputConnectorSelector": "ImageConnector #0"},
    {"inputSelector": "ImageConnector #1", "copyOtherInputTags": True},
    {"worldMatrixInheritanceSource": "DICOM_INPUT"}])
def test_a_save_from_scanned_headers_equals_one_from_every_slices_full_header(tmp_path,
                                                                            settings):
    # The scanned series reads the first slice's full header alone; the oracle is the same
    # save from every slice's header as pydicom reads it.
    case = make_case(tmp_path, size=(5, 4, 6), orientation=(0, 1, 0, -1, 0, 0))
    written = []
    for name, full in (("scanned", False), ("full", True)):
        module = connected(case, tmp_path, fixed_dicom=True)
        module.set("fileName", str(tmp_path / f"{name}.dcm"))
        if full:
            for image in (module.input0, module.input1):
                image.datasets = [dcmread(p, stop_before_pixels=True)
                                  for p in image.datasets.files]
        module.set_many(settings)
        written.append(module.run().path)
    scanned, full = (_attributes(path) for path in written)
    assert scanned == full and len(scanned) > 60


def test_a_save_reads_the_full_header_of_one_slice_per_series(tmp_path, monkeypatch):
    case = make_case(tmp_path, size=(5, 4, 9))
    read = full_header_reads(monkeypatch)
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(tmp_path / "reg.dcm"), "--no-dciodvfy"]) == 0
    assert sorted(p.parent.name for p in read) == ["fixed", "moving"]
    assert len(referenced(tmp_path / "reg.dcm")) == 9
    assert referenced(tmp_path / "reg.dcm") == uids(case.moving)
