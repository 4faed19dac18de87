"""The command line: the main job, read back, validate, and every refusal."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import ROOT, SAMPLE, dciodvfy_counts, make_case, save_on_fixed, write_field
from pydicom import dcmread

from dicomreg.core.cli.main import main
from dicomreg.core.deformation import read_displacement_field
from dicomreg.core.reg import read_deformable_registration


def run(args: list[str], capsys) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_main_job_says_what_it_wrote_and_checked(tmp_path, capsys):
    out = tmp_path / "reg.dcm"
    status, stdout, stderr = run(["save", str(SAMPLE / "field.mha"), "--fixed",
                                  str(SAMPLE / "fixed"), "--moving", str(SAMPLE / "moving"),
                                  "-o", str(out)], capsys)
    assert status == 0, stderr
    assert f"wrote {out}" in stdout
    assert "12 instance(s) referenced" in stdout
    assert "checked before writing" in stdout and "no problem" in stdout
    assert "dciodvfy: 0 error(s), 0 warning(s)" in stdout


def test_read_returns_the_field_bit_exactly(tmp_path, capsys):
    case = make_case(tmp_path)
    reg, back = tmp_path / "reg.dcm", tmp_path / "back.nii.gz"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(reg), "--no-dciodvfy"]) == 0
    status, stdout, _ = run(["read", str(reg), "-o", str(back)], capsys)
    assert status == 0 and f"wrote {back}" in stdout
    original, read = read_displacement_field(case.field), read_displacement_field(back)
    assert np.array_equal(read.voxels.view(np.uint32), original.voxels.view(np.uint32))
    assert np.allclose(read.geometry.origin, original.geometry.origin)
    assert np.allclose(read.geometry.spacing, original.geometry.spacing)


def test_read_reports_matrices_the_field_file_cannot_hold(tmp_path, capsys):
    case = make_case(tmp_path)
    reg = tmp_path / "reg.dcm"
    save_on_fixed(case, reg, "--set", "postDeformationMatrix=1 0 0 5, 0 1 0 0, 0 0 1 0, 0 0 0 1")
    status, stdout, _ = run(["read", str(reg), "-o", str(tmp_path / "f.mha")], capsys)
    assert status == 0 and "post-deformation matrix (RIGID) is not the identity" in stdout


def test_validate(tmp_path, capsys):
    reg = tmp_path / "reg.dcm"
    assert main(["save", str(SAMPLE / "field.mha"), "--fixed", str(SAMPLE / "fixed"),
                 "-o", str(reg), "--no-dciodvfy"]) == 0
    capsys.readouterr()
    status, stdout, _ = run(["validate", str(reg)], capsys)
    assert status == 0 and "dicomreg checks: 0 problem(s)" in stdout
    assert "dciodvfy: 0 error(s)" in stdout
    # Another kind of object is named as such, not listed as a dozen REG problems.
    status, stdout, stderr = run(["validate", str(SAMPLE / "fixed" / "CT001.dcm")], capsys)
    assert status == 1 and stdout == ""
    assert "is an instance of CT Image Storage, not a Deformable Spatial Registration" in stderr
    # A deformable registration under the wrong SOP class is checked, and the class reported.
    ds = dcmread(reg)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.1"
    ds.save_as(tmp_path / "rigid_class.dcm")
    status, stdout, _ = run(["validate", str(tmp_path / "rigid_class.dcm"), "--no-dciodvfy"],
                            capsys)
    assert status == 1 and "is not Deformable Spatial Registration Storage" in stdout


PREVIOUS = b"\0" * 128 + b"DICM" + b"previous good content"


@pytest.fixture
def existing(tmp_path):
    """A good file at the target path that a failed save must leave untouched (a previous
    REG: a Part 10 file, the only kind a REG output replaces)."""
    target = tmp_path / "out.dcm"
    target.write_bytes(PREVIOUS)
    return target


def assert_refused(status, stderr, target, message):
    assert status == 1
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    # One problem: one line. Several: a summary line, then one line per problem, all of them.
    if len(lines) > 1:
        assert lines[0].endswith(f": error: {len(lines) - 1} problems:"), stderr
        assert all(line.startswith("  ") and line.strip() for line in lines[1:]), stderr
    assert any(message in line for line in lines), stderr
    assert target.read_bytes() == PREVIOUS
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []


def test_missing_field_file(tmp_path, capsys, existing):
    status, _, err = run(["save", str(tmp_path / "nope.mha"), "-o", str(existing)], capsys)
    assert_refused(status, err, existing, "nope.mha' does not exist; expected a 3-D image "
                   "with 3 components per voxel")


def test_scalar_image_is_refused(tmp_path, capsys, existing):
    scalar = tmp_path / "scalar.mha"
    sitk.WriteImage(sitk.Image(4, 4, 4, sitk.sitkFloat32), str(scalar))
    status, _, err = run(["save", str(scalar), "-o", str(existing)], capsys)
    assert_refused(status, err, existing, "is a 3-D scalar image; expected a 3-D image with 3 "
                   "components per voxel")


def test_two_dimensional_field_is_refused(tmp_path, capsys, existing):
    flat = tmp_path / "flat.mha"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 5, 2), np.float32), isVector=True),
                    str(flat))
    status, _, err = run(["save", str(flat), "-o", str(existing)], capsys)
    assert_refused(status, err, existing, "is a 2-D 2-component image")


@pytest.mark.parametrize(("setting", "message"), [
    ("contentLabel=registration", "contentLabel: 'registration' is not a code string"),
    ("studyInstanceUID=1.2.03.4", "component '03' with a leading zero"),
    ("preDeformationMatrix=2 0 0 0, 0 2 0 0, 0 0 2 0, 0 0 0 1",
     "preDeformationMatrix: it is RIGID_SCALE, not RIGID"),
    ("postDeformationMatrix=1 0.3 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1",
     "postDeformationMatrix: it is AFFINE, not RIGID"),
    ("seriesNumber=99999999999", "seriesNumber: '99999999999' is outside the IS range"),
    ("contentLable=X", "unknown field 'contentLable'; did you mean contentLabel"),
    ("contentLabel", "--set 'contentLabel': expected NAME=VALUE"),
    ("laterality=left", "laterality: 'left' is not one of"),
    ("referencedFrameNumbers=0", "referencedFrameNumbers: list 1: '0' holds 0"),
])
def test_bad_settings_are_refused(case, capsys, existing, setting, message):
    status, _, err = run(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                          str(case.moving), "-o", str(existing), "--set", setting], capsys)
    assert_refused(status, err, existing, message)


def test_missing_frame_of_reference_without_sources(case, capsys, existing):
    status, _, err = run(["save", str(case.field), "-o", str(existing)], capsys)
    assert_refused(status, err, existing, "frameOfReferenceUID: is empty; inherit it from the "
                   "fixed image, or set it")


def test_bad_dicom_sources(tmp_path, case, capsys, existing):
    (tmp_path / "empty").mkdir()
    status, _, err = run(["save", str(case.field), "--fixed", str(tmp_path / "empty"),
                          "-o", str(existing)], capsys)
    assert_refused(status, err, existing, "holds no DICOM instance; expected a DICOM file or "
                   "a directory holding one series")
    status, _, err = run(["save", str(case.field), "--moving", str(tmp_path),
                          "-o", str(existing)], capsys)
    assert_refused(status, err, existing, "holds 2 volumes (0: CT 'Fixed CT', 4 slice(s)")


def test_field_on_its_own_grid_keeps_it(tmp_path, capsys):
    """A field on another grid than the fixed image's (a coarser sampling, another origin)
    is written on its own grid: its world matrix says where its vectors are."""
    case = make_case(tmp_path)
    coarse = write_field(tmp_path / "coarse.mha", case.vectors[:, ::2, ::2].copy(),
                         origin=(-9.0, -7.0, -6.0), spacing=(4, 4, 3), direction=np.eye(3))
    out = tmp_path / "reg.dcm"
    status, _, err = run(["save", str(coarse), "--fixed", str(case.fixed), "--moving",
                          str(case.moving), "-o", str(out), "--no-dciodvfy"], capsys)
    assert status == 0, err
    grid = read_deformable_registration(out).deformable_item.grid
    assert grid.geometry.origin == (-9.0, -7.0, -6.0) and grid.geometry.spacing == (4, 4, 3)
    assert dciodvfy_counts(out) == ([], [])


def test_dicom_input_geometry_must_agree_with_the_field(tmp_path, capsys, existing):
    case = make_case(tmp_path)
    shifted = write_field(tmp_path / "shifted.mha", case.vectors, origin=(0, 0, 0),
                          spacing=(2, 2, 3), direction=np.eye(3))
    status, _, err = run(["save", str(shifted), "--fixed", str(case.fixed), "-o",
                          str(existing), "--set", "worldMatrixInheritanceSource=DICOM_INPUT"],
                         capsys)
    assert_refused(status, err, existing, "imagePositionPatient: '-10 -8 -6' differs from "
                   "the field's first voxel position '0 0 0'")


def test_sheared_field_is_refused(tmp_path, capsys, existing):
    sheared = write_field(tmp_path / "sheared.mha", np.zeros((3, 4, 5, 3), np.float32),
                          origin=(0, 0, 0), spacing=(1, 1, 1),
                          direction=[[1, 0, 0], [0, 1, 0.3], [0, 0, 0.95393920]])
    status, _, err = run(["save", str(sheared), "-o", str(existing), "--set",
                          "frameOfReferenceUID=1.2.3", "--set", "sourceFrameOfReferenceUID=1.2.4"],
                         capsys)
    assert_refused(status, err, existing, "the field's axes are not orthogonal unit vectors")


def test_invalid_source_values_are_not_inherited(tmp_path, capsys):
    from pydicom import dcmread

    case = make_case(tmp_path)
    for path in case.fixed.iterdir():
        ds = dcmread(path)
        with pytest.warns(UserWarning, match="exceeds the maximum length"):
            ds.AccessionNumber = "ACCESSION-NUMBER-TOO-LONG"  # an invalid source, on purpose
        ds.save_as(path)
    out = tmp_path / "reg.dcm"
    status, stdout, err = run(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                               str(case.moving), "-o", str(out), "--no-dciodvfy"], capsys)
    assert status == 0, err
    assert "note: not inherited: accessionNumber: 'ACCESSION-NUMBER-TOO-LONG' has 25" in stdout
    assert dcmread(out).AccessionNumber == ""


def test_missing_output_directory(case, tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "reg.dcm"
    status, _, err = run(["save", str(case.field), "--fixed", str(case.fixed), "-o",
                          str(target)], capsys)
    assert status == 1 and "output directory" in err and "does not exist" in err
    assert not target.parent.exists()


def test_read_refuses_what_is_not_a_reg(tmp_path, capsys):
    status, _, err = run(["read", str(SAMPLE / "fixed" / "CT001.dcm"), "-o",
                          str(tmp_path / "x.mha")], capsys)
    assert status == 1 and "is a CT Image Storage, not a Deformable Spatial Registration" in err
    assert not (tmp_path / "x.mha").exists()


def test_installed_entry_point_runs_without_traceback(tmp_path):
    env = dict(os.environ)
    completed = subprocess.run(
        [sys.executable, "-m", "dicomreg.core.cli.main", "save", str(tmp_path / "x.mha"), "-o",
         str(tmp_path / "y.dcm")], capture_output=True, text=True, env=env, cwd=ROOT)
    assert completed.returncode == 1
    assert completed.stderr.startswith("dicomreg save: error: field file")
    assert not (tmp_path / "y.dcm").exists()


def test_moving_image_of_another_patient_is_written_with_a_warning(tmp_path, capsys):
    """An atlas registration is legitimate; a wrong --moving directory looks the same."""
    from pydicom import dcmread

    case = make_case(tmp_path)
    for path in case.moving.iterdir():
        ds = dcmread(path)
        ds.PatientID = "SOMEONE ELSE"
        ds.save_as(path)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "warning: the referenced image is of patient 'SOMEONE ELSE'" in printed
    assert dciodvfy_counts(out) == ([], [])
    assert dcmread(out).PatientID != "SOMEONE ELSE"
    # the same patient: no warning
    case = make_case(tmp_path / "same")
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(tmp_path / "same.dcm"), "--no-dciodvfy"]) == 0
    assert "is of patient" not in capsys.readouterr().out


def test_one_slice_of_a_series_is_used_as_given_with_a_warning(tmp_path, capsys):
    """Naming one file of a series references that file only, and says so."""
    from conftest import write_multiframe
    from pydicom import dcmread

    case = make_case(tmp_path)
    first = sorted(case.moving.iterdir())[0]
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving", str(first),
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "warning: --moving names one slice of a series of 4" in printed
    assert "only that slice is used and referenced" in printed
    assert dciodvfy_counts(out) == ([], [])
    written = dcmread(out)
    referenced = [item for study in written.StudiesContainingOtherReferencedInstancesSequence
                  for series in study.ReferencedSeriesSequence
                  for item in series.ReferencedInstanceSequence]
    assert [r.ReferencedSOPInstanceUID for r in referenced] == [dcmread(first).SOPInstanceUID]
    # a multi-frame file is a whole volume: nothing to say
    multiframe = write_multiframe(tmp_path / "mf.dcm")
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(multiframe), "-o", str(tmp_path / "mf_reg.dcm"), "--no-dciodvfy"]) == 0
    assert "names one slice" not in capsys.readouterr().out


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path, capsys):
    case = make_case(tmp_path)
    chain = tmp_path / "chain.json"
    chain.write_text("[]")
    slice_file = sorted(case.fixed.iterdir())[1]
    moving_file = sorted(case.moving.iterdir())[2]
    before = {p: p.read_bytes() for p in (case.field, chain, slice_file, moving_file)}
    base = ["save", str(case.field), "--fixed", str(case.fixed), "--moving", str(case.moving),
            "--modifiers", str(chain), "--no-dciodvfy", "-o"]
    for output, message in ((case.field, "is the field file"),
                            (chain, "is the modifiers file"),
                            (slice_file, "is a DICOM file of input0"),
                            (moving_file, "is a DICOM file of input1"),
                            (tmp_path / "reg.nii.gz", "has the suffix of a field")):
        assert main([*base, str(output)]) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "reg.nii.gz").exists()
    # the same file named another way (relative) is still the same file
    relative = os.path.relpath(chain, os.getcwd())
    assert main([*base[:-1], "--modifiers", relative, "-o", str(chain)]) == 1
    assert "is the modifiers file" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in before} == before


def test_read_and_warp_refuse_outputs_they_cannot_or_must_not_write(tmp_path, capsys):
    case = make_case(tmp_path)
    reg = tmp_path / "reg.dcm"
    save_on_fixed(case, reg)
    original = reg.read_bytes()
    capsys.readouterr()
    for command in (["read", str(reg), "-o", str(reg)],
                    ["read", str(reg), "-o", str(tmp_path / "field.dcm")],
                    ["warp", str(reg), str(case.moving), "-o", str(reg)],
                    ["warp", str(reg), str(case.moving), "-o", str(tmp_path / "w.dcm")]):
        assert main(command) == 1, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert ("is the REG file" in err or "name it with one of .mha" in err), err
    assert reg.read_bytes() == original
    assert not (tmp_path / "field.dcm").exists() and not (tmp_path / "w.dcm").exists()


def test_output_read_by_no_one_ends_quietly_after_the_work(case, tmp_path):
    """``dicomreg save ... | head -1``: the reader has gone before the report is printed.
    The REG is written whole, stderr stays empty (no misleading 'Broken pipe' error: it was
    no failure to write the file) and the status is the shell's for SIGPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # no reader at all: the first print meets a broken pipe
    out = tmp_path / "reg.dcm"
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "dicomreg.core.cli.main", "save", str(case.field), "--fixed",
             str(case.fixed), "-o", str(out), "--no-dciodvfy"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert completed.returncode == 141, completed.stderr
    assert completed.stderr == ""
    assert read_deformable_registration(out).deformable_item.grid.geometry.size == (8, 6, 4)
