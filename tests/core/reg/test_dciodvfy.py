"""Every kind of file we write, through the command line, judged by dciodvfy.

dciodvfy's exit status is unreliable, so its Error and Warning lines are counted. dciodvfy
must be installed (Debian package dicom3tools; .ci/run installs it): these tests fail, not
skip, without it.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SAMPLE, dciodvfy_counts, make_case
from pydicom import dcmread

from dicomreg.core.cli.main import main
from dicomreg.core.reg import read_deformable_registration

ROTATED = tuple(np.round([np.cos(0.3), np.sin(0.3), 0, -np.sin(0.3), np.cos(0.3), 0], 8))
TILTED = tuple(np.round([1, 0, 0, 0, np.cos(0.5), -np.sin(0.5)], 8))


def save(args: list[str]) -> None:
    assert main(["save", *args, "--no-dciodvfy"]) == 0


def assert_clean(path) -> None:
    errors, warnings = dciodvfy_counts(path)
    assert (errors, warnings) == ([], []), f"dciodvfy on {path}"


def test_shipped_sample_data(tmp_path):
    out = tmp_path / "reg.dcm"
    save([str(SAMPLE / "field.mha"), "--fixed", str(SAMPLE / "fixed"), "--moving",
          str(SAMPLE / "moving"), "-o", str(out)])
    assert_clean(out)


@pytest.mark.parametrize(("geometry", "size"), [
    ({}, (8, 6, 4)),
    ({}, (1, 1, 1)),
    ({}, (33, 17, 9)),
    ({"orientation": ROTATED}, (8, 6, 4)),
    ({"orientation": TILTED, "spacing": (0.9, 1.1, 2.5)}, (7, 5, 3)),
    ({"origin": (250.5, -130.25, 1000.0), "spacing": (0.5, 0.5, 0.7)}, (12, 10, 6)),
])
@pytest.mark.parametrize("with_moving", [True, False])
def test_geometries_with_and_without_moving(tmp_path, geometry, size, with_moving):
    case = make_case(tmp_path, size=size, **geometry)
    out = tmp_path / "reg.dcm"
    args = [str(case.field), "--fixed", str(case.fixed), "-o", str(out)]
    if with_moving:
        args += ["--moving", str(case.moving)]
    save(args)
    assert_clean(out)
    grid = read_deformable_registration(out).deformable_item.grid
    assert np.array_equal(grid.voxels, case.vectors)


@pytest.mark.parametrize("same_study", [True, False])
def test_references_go_to_the_right_common_instance_reference_sequence(tmp_path, same_study):
    case = make_case(tmp_path, same_study=same_study)
    out = tmp_path / "reg.dcm"
    save([str(case.field), "--fixed", str(case.fixed), "--moving", str(case.moving),
          "-o", str(out)])
    assert_clean(out)
    ds = dcmread(out)
    moving = sorted(dcmread(p).SOPInstanceUID for p in case.moving.iterdir())
    item = ds.DeformableRegistrationSequence[0]
    assert sorted(r.ReferencedSOPInstanceUID for r in item.ReferencedImageSequence) == moving
    if same_study:
        series = ds.ReferencedSeriesSequence
        assert "StudiesContainingOtherReferencedInstancesSequence" not in ds
    else:
        study = ds.StudiesContainingOtherReferencedInstancesSequence[0]
        assert study.StudyInstanceUID != ds.StudyInstanceUID
        series = study.ReferencedSeriesSequence
        assert "ReferencedSeriesSequence" not in ds
    assert sorted(r.ReferencedSOPInstanceUID for r in series[0].ReferencedInstanceSequence) \
        == moving
    assert item.SourceFrameOfReferenceUID == dcmread(next(case.moving.iterdir())) \
        .FrameOfReferenceUID


@pytest.mark.parametrize(("matrix_type", "matrix"), [
    ("RIGID", "0.8 -0.6 0 12.5, 0.6 0.8 0 -3, 0 0 1 7.25, 0 0 0 1"),
    ("RIGID_SCALE", "1.2 0 0 5, 0 0.9 0 0, 0 0 1.1 -2, 0 0 0 1"),
    ("AFFINE", "1 0.15 0 0, 0.05 1 0 0, 0 0 0.95 3, 0 0 0 1"),
])
def test_each_matrix_type(tmp_path, matrix_type, matrix):
    case = make_case(tmp_path)
    out = tmp_path / "reg.dcm"
    save([str(case.field), "--fixed", str(case.fixed), "--moving", str(case.moving),
          "-o", str(out), "--set", f"preDeformationMatrix={matrix}",
          "--set", f"preDeformationMatrixType={matrix_type}",
          "--set", f"postDeformationMatrix={matrix}",
          "--set", f"postDeformationMatrixType={matrix_type}"])
    assert_clean(out)


def test_fields_set_on_the_command_line(tmp_path):
    case = make_case(tmp_path)
    out = tmp_path / "reg.dcm"
    save([str(case.field), "--fixed", str(case.fixed), "--moving", str(case.moving),
          "-o", str(out),
          "--set", "contentLabel=DIR_CT_CBCT", "--set", "seriesNumber=901",
          "--set", "contentDescription=Deformable registration follow-up to planning",
          "--set", "contentCreatorsName=Physicist^Medical",
          "--set", "patientsName=Müller^Jörg", "--set", "seriesDescription=REG CT to CT",
          "--set", "instanceNumber=7", "--set", "deviceSerialNumber=SITE-0042",
          "--set", "manufacturer=Clinic Physics", "--set", "softwareVersions=2.1",
          "--set", "contentDate=20260301", "--set", "contentTime=101500"])
    assert_clean(out)
    ds = dcmread(out)
    assert ds.ContentLabel == "DIR_CT_CBCT" and ds.SeriesNumber == 901
    assert str(ds.PatientName) == "Müller^Jörg" and ds.SpecificCharacterSet == "ISO_IR 192"
    assert ds.InstanceNumber == 7 and ds.DeviceSerialNumber == "SITE-0042"
    assert (ds.ContentDate, ds.ContentTime) == ("20260301", "101500")


def test_float64_field_and_nan_vectors(tmp_path):
    case = make_case(tmp_path, dtype=np.float64)
    out = tmp_path / "reg.dcm"
    save([str(case.field), "--fixed", str(case.fixed), "--moving", str(case.moving),
          "-o", str(out)])
    assert_clean(out)


def test_without_any_source_only_the_unknown_patient_and_study_are_reported(tmp_path):
    """No fixed image: patient, study and frames are unknown. The errors must be none; the
    warnings are dciodvfy asking for the values we honestly do not have."""
    case = make_case(tmp_path)
    out = tmp_path / "reg.dcm"
    save([str(case.field), "-o", str(out), "--set", "frameOfReferenceUID=1.2.3.4",
          "--set", "sourceFrameOfReferenceUID=1.2.3.5"])
    errors, warnings = dciodvfy_counts(out)
    assert errors == []
    unknown = ("Patient ID", "Study Date", "Study Time", "Study ID", "Series Number",
               "attribute <Laterality>")
    assert all(any(word in line for word in unknown) for line in warnings), warnings


# --- our reading of dciodvfy's output ---------------------------------------------------------

def test_every_message_counts_wherever_it_stands_on_its_line():
    from dicomreg.core.reg import parse_dciodvfy

    output = "\n".join([
        "DeformableSpatialRegistration",
        "Error - Missing attribute Type 1 Required Element=<ContentLabel> Module=<X>",
        "(0x0011,0x1001)  ?  - Warning - Unrecognized tag - assuming explicit value "
        "representation OK",
        "Warning - is only permitted to be empty when actually unknown; should be absent (not "
        "empty) if an unpaired body part, and have a value if a paired body part - attribute "
        "<Laterality>",
        "Abort - cannot read the file",
        "An Error - that is not a message", "Warnings - neither",
    ])
    result = parse_dciodvfy(output)
    assert result.errors == [output.splitlines()[1], "Abort - cannot read the file"]
    assert result.warnings == output.splitlines()[2:4]
    assert str(result) == ("2 error(s), 2 warning(s) (1 about private attributes, which "
                           "dciodvfy cannot look up; 1 about an empty Laterality: the source "
                           "gives no Body Part Examined or no side, and none is invented)")


def test_the_verdict_printed_counts_the_private_block_and_says_why(tmp_path, capsys):
    from conftest import SITE_BLOCK_WARNINGS

    out = tmp_path / "reg.dcm"
    assert main(["save", str(SAMPLE / "field.mha"), "--fixed", str(SAMPLE / "fixed"),
                 "--moving", str(SAMPLE / "moving"), "-o", str(out), "--modifiers",
                 str(SAMPLE.parent / "modifiers" / "deidentify_and_site_block.json")]) == 0
    saved = capsys.readouterr().out
    assert main(["validate", str(out)]) == 0
    validated = capsys.readouterr().out
    verdict = ("dciodvfy: 0 error(s), 2 warning(s) (2 about private attributes, which "
               "dciodvfy cannot look up)")
    assert verdict in saved and verdict in validated
    assert dciodvfy_counts(out) == ([], SITE_BLOCK_WARNINGS)
    assert all(f"  {line}" in validated for line in SITE_BLOCK_WARNINGS)


def test_the_verdict_says_why_laterality_is_empty(tmp_path, capsys):
    case = make_case(tmp_path, body_part=None)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(out)]) == 0
    assert ("dciodvfy: 0 error(s), 1 warning(s) (1 about an empty Laterality: the source gives "
            "no Body Part Examined or no side, and none is invented)") in capsys.readouterr().out
    errors, warnings = dciodvfy_counts(out)
    assert errors == [] and len(warnings) == 1 and "attribute <Laterality>" in warnings[0]
