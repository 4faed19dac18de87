"""Scanning directories into volumes (headers only), and the command line that uses them."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import (
    SAMPLE,
    dciodvfy_counts,
    full_header_reads,
    make_case,
    sample_data,
    write_multiframe,
)
from pydicom import dcmread
from pydicom.uid import generate_uid

from dicomreg.core.cli.main import main
from dicomreg.core.dicom import VolumeError, read_volume, scan_volumes
from dicomreg.core.errors import DicomRegError


def test_groups_series_geometries_and_multiframes_and_ignores_other_files(tmp_path):
    case = make_case(tmp_path / "data")
    (tmp_path / "data" / "sub").mkdir()
    write_multiframe(tmp_path / "data" / "sub" / "mf.dcm", frames=3)
    (tmp_path / "data" / "notes.txt").write_text("not DICOM")
    (tmp_path / "data" / "DICOMDIR").write_bytes(b"\0" * 10)
    # A second orientation inside the fixed series: another volume of the same series.
    sample_data.write_series(tmp_path / "data" / "tilted", np.zeros((2, 6, 8)),
                             origin=(0, 0, 0), orientation=(1, 0, 0, 0, 0.8, -0.6),
                             study=f"FIXED {tmp_path.name}-0", series_number=2,
                             study_date="20260105", description="Fixed CT")
    for path in (tmp_path / "data" / "tilted").iterdir():
        path.rename(case.fixed / f"tilted_{path.name}")
    volumes = scan_volumes(tmp_path / "data")
    described = sorted(v.describe() for v in volumes)
    assert described == ["CT 'Fixed CT', 2 slice(s)", "CT 'Fixed CT', 4 slice(s)",
                         "CT 'Moving CT', 4 slice(s)", "CT, 3 frame(s)"]


def test_echoes_and_temporal_positions_of_one_series_are_volumes_told_apart(tmp_path):
    """Two echoes (or phases) at the same positions: two volumes, and the listing says which
    is which, since series, description and slice count are the same."""
    case = make_case(tmp_path / "data")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for echo in (1, 2):
        for path in sorted(case.moving.iterdir()):
            ds = dcmread(path)
            ds.EchoNumbers = echo
            ds.TemporalPositionIdentifier = echo + 10
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(
                entropy_srcs=[path.name, str(echo)])
            ds.save_as(mixed / f"echo{echo}_{path.name}")
    described = [v.describe() for v in scan_volumes(mixed)]
    assert sorted(described) == [
        "CT 'Moving CT', 4 slice(s), echo 1, temporal position 11",
        "CT 'Moving CT', 4 slice(s), echo 2, temporal position 12"]


def test_slices_sorted_along_the_normal_whatever_the_file_names(tmp_path):
    case = make_case(tmp_path, orientation=(1, 0, 0, 0, 0.6, -0.8), size=(4, 4, 6))
    files = sorted(case.fixed.iterdir())
    for index, path in enumerate(files):  # scramble the names
        path.rename(case.fixed / f"x{(index * 7) % len(files):02d}_{index}.dcm")
    volume = read_volume(case.fixed)
    normal = np.cross([1, 0, 0], [0, 0.6, -0.8])
    along = [np.dot(np.asarray(ds.ImagePositionPatient, float), normal)
             for ds in volume.datasets]
    assert along == sorted(along)
    assert volume.geometry.size == (4, 4, 6)
    assert np.allclose(volume.geometry.spacing, (2.0, 2.0, 3.0))


def test_pixel_data_is_never_read(tmp_path):
    case = make_case(tmp_path)
    for path in case.fixed.iterdir():
        data = path.read_bytes()
        cut = data.rfind(b"\xe0\x7f\x10\x00")  # (7FE0,0010) Pixel Data: truncate its value
        path.write_bytes(data[: cut + 12] + b"\x01\x02")
    volume = read_volume(case.fixed)
    assert len(volume.datasets) == 4 and "PixelData" not in volume.datasets[0]


def test_duplicate_files_count_once(tmp_path):
    case = make_case(tmp_path)
    shutil.copytree(case.fixed, tmp_path / "copy")
    (tmp_path / "copy").rename(case.fixed / "copy")
    assert len(read_volume(case.fixed).datasets) == 4


def test_volume_errors(tmp_path):
    make_case(tmp_path)
    with pytest.raises(VolumeError, match="holds 2 volumes .* choose one with its"):
        read_volume(tmp_path)
    with pytest.raises(VolumeError, match="volume 5 does not exist; .* holds volumes 0 to 1"):
        read_volume(tmp_path, 5)
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(VolumeError, match="is not a DICOM instance"):
        scan_volumes(tmp_path / "x.txt")


def test_scan_lists_what_a_user_needs(capsys):
    assert main(["scan", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"2 volume(s) in {SAMPLE}:")
    assert "  0  CT 'Planning CT', 12 slice(s)" in out and "  1  CT 'Follow-up CT'" in out
    assert "frame of reference 1.2." in out and "study 1.2." in out and "'PLANNING'" in out


def test_save_with_volume_indexes_from_one_directory(tmp_path):
    case = make_case(tmp_path)
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(tmp_path), "--fixed-volume", "0",
                 "--moving", str(tmp_path), "--moving-volume", "1", "-o", str(out),
                 "--no-dciodvfy"]) == 0
    assert dciodvfy_counts(out) == ([], [])
    ds = dcmread(out)
    assert ds.FrameOfReferenceUID == dcmread(next(case.fixed.iterdir())).FrameOfReferenceUID
    assert len(ds.DeformableRegistrationSequence[0].ReferencedImageSequence) == 4


def test_save_inheriting_from_a_file_or_the_base_connector(tmp_path):
    case = make_case(tmp_path)
    moving_file = sorted(case.moving.iterdir())[0]
    moving_frame = dcmread(moving_file).FrameOfReferenceUID
    for extra in (["--inherit-file", str(moving_file)],
                  ["--base", str(tmp_path), "--base-volume", "1"],
                  ["--base", str(moving_file)]):
        out = tmp_path / "reg.dcm"
        assert main(["save", str(case.field), "--moving", str(case.moving), "-o", str(out),
                     "--no-dciodvfy", *extra]) == 0, extra
        assert dcmread(out).FrameOfReferenceUID == moving_frame
        assert dciodvfy_counts(out) == ([], [])


def test_base_volume_out_of_range(tmp_path, capsys):
    case = make_case(tmp_path)
    assert main(["save", str(case.field), "-o", str(tmp_path / "reg.dcm"), "--base",
                 str(tmp_path), "--base-volume", "9"]) == 1
    assert "inputVolumeIndex: volume 9 does not exist" in capsys.readouterr().err


def test_one_series_of_several_multiframe_instances_is_one_moving_image(tmp_path, capsys):
    """The documentation's print-list example needs three multi-frame instances of one
    series; they are one volume, and each gets its own list of frames."""
    from conftest import make_case, write_multiframe
    from pydicom import dcmread

    from dicomreg.core.cli.main import main
    from dicomreg.core.dicom import scan_volumes

    case = make_case(tmp_path / "case")
    moving = tmp_path / "moving"
    moving.mkdir()
    for number in (1, 2, 3):
        path = write_multiframe(moving / f"mf{number}.dcm", frames=6)
        ds = dcmread(path)
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.77.{number}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = number
        ds.save_as(path)
    (volume,) = scan_volumes(moving)
    assert len(volume.files) == 3 and volume.number_of_frames == 18
    assert "3 multi-frame instances" in volume.describe()
    out = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving", str(moving),
                 "-o", str(out), "--no-dciodvfy",
                 "--set", "referencedFrameNumbers=1-2,4,6 : 1 2 3 4 : 1"]) == 0, \
        capsys.readouterr().err
    items = dcmread(out).DeformableRegistrationSequence
    referenced = [item for item in items if "ReferencedImageSequence" in item]
    frames = [[int(f) for f in ([i.ReferencedFrameNumber] if isinstance(
        i.ReferencedFrameNumber, int) else i.ReferencedFrameNumber)]
        for i in referenced[0].ReferencedImageSequence]
    assert frames == [[1, 2, 4, 6], [1, 2, 3, 4], [1]]


def test_names_that_are_not_regular_files_are_skipped_with_a_note(tmp_path, capsys):
    """A FIFO and a link to /dev/zero inside a series folder: read, neither would end; both
    are skipped, and save and scan say so in one note naming the first."""
    import os

    case = make_case(tmp_path / "case")
    fixed = tmp_path / "fixed"
    shutil.copytree(case.fixed, fixed)
    os.mkfifo(fixed / "a_fifo.dcm")
    (fixed / "b_zero.dcm").symlink_to("/dev/zero")
    (fixed / "c_dangling.dcm").symlink_to(tmp_path / "nowhere")  # no file at all: no note

    volumes = scan_volumes(fixed)
    assert len(volumes) == 1 and volumes.skipped == [fixed / "a_fifo.dcm", fixed / "b_zero.dcm"]
    assert main(["scan", str(fixed)]) == 0
    out = capsys.readouterr().out
    assert "note: skipped 2 name(s)" in out and "a_fifo.dcm" in out
    assert main(["save", str(case.field), "--fixed", str(fixed), "--moving", str(case.moving),
                 "-o", str(tmp_path / "reg.dcm"), "--no-dciodvfy"]) == 0
    done = capsys.readouterr()
    assert done.err == "" and "note: skipped 2 name(s) under" in done.out
    assert dcmread(tmp_path / "reg.dcm").Modality == "REG"


def test_a_series_full_headers_are_read_when_used_and_equal_pydicoms(tmp_path, monkeypatch):
    # A save needs every slice's UIDs and position, which the scan read, and the full header
    # of the first slice alone: the others are read when something asks for them, and are
    # then what pydicom reads of the file (the oracle: pydicom's dcmread of each file).
    case = make_case(tmp_path, size=(5, 4, 6))
    read = full_header_reads(monkeypatch)
    image = read_volume(case.fixed)
    assert len(read) == 1 and len(image.datasets) == 6 and image.describe().endswith(
        "6 DICOM header(s)")
    first = image.datasets[0]
    assert len(read) == 1 and first is image.datasets[0]
    files = image.datasets.files
    expected = [dcmread(path, stop_before_pixels=True) for path in files]
    assert [str(ds.SOPInstanceUID) for ds in expected] == [
        h.sop_instance_uid for h in image.datasets.headers]
    assert image.datasets[-1] == expected[-1] and len(read) == 2
    assert image.datasets[1:3] == expected[1:3] and list(image.datasets) == expected
    assert image.datasets == expected and len(read) == 6  # each file read once
    with pytest.raises(IndexError):
        image.datasets[6]
    assert "6 slice(s)" in repr(image.datasets)


def test_a_slice_that_is_no_longer_dicom_when_its_header_is_needed_is_named(tmp_path):
    case = make_case(tmp_path)
    image = read_volume(case.fixed)
    last = image.datasets.files[-1]
    last.write_bytes(b"not DICOM any more")
    with pytest.raises(DicomRegError, match=f"'{last}', a slice of the series scanned in "
                       f"'{last.parent}', is no longer readable DICOM"):
        image.datasets[-1]


def test_the_geometry_of_a_scanned_series_is_the_one_its_full_headers_give(tmp_path):
    from dicomreg.core.dicom import dicom_geometry

    case = make_case(tmp_path, orientation=(0, 1, 0, 0, 0, -1), size=(4, 5, 6),
                     spacing=(0.7, 1.3, 2.1))
    image = read_volume(case.fixed)
    assert dicom_geometry(image.datasets) == dicom_geometry(list(image.datasets)) \
        == image.geometry


def test_a_link_in_a_series_folder_to_a_system_file_is_skipped_unread(tmp_path):
    case = make_case(tmp_path)
    (case.fixed / "status").symlink_to("/proc/self/status")  # a regular file to stat()
    (case.fixed / "linked.dcm").symlink_to(next(case.fixed.glob("*.dcm")))
    volumes = scan_volumes(case.fixed)
    assert volumes.skipped == [case.fixed / "status"]
    assert len(volumes) == 1 and len(volumes[0].headers) == 4  # the linked slice counts once
