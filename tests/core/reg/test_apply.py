"""Applying a REG: warp a moving image through it and map points."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import make_case, sample_data, save_on_fixed, write_field

from dicomreg.core.cli.main import main
from dicomreg.core.reg import read_deformable_registration


def phantom(points):
    """Smooth enough that linear interpolation on 1.5-2.5 mm voxels errs by a few HU."""
    centre = np.array([2.0, -3.0, 1.0])
    return 1000.0 * np.exp(-np.sum(((points - centre) / np.array([20.0, 16.0, 14.0])) ** 2, -1))


@pytest.mark.parametrize("carrier", ["field", "post", "pre"])
def test_shift_undone_by_the_reg_warps_back_onto_the_fixed_image(tmp_path, carrier):
    """The convention end to end: moving = fixed shifted by s; v = s undoes it."""
    size, spacing, origin = (40, 36, 16), (1.5, 1.5, 2.5), (-30.0, -27.0, -20.0)
    shift = np.array([4.3, -2.7, 3.1])
    k, j, i = np.meshgrid(*(np.arange(n) for n in size[::-1]), indexing="ij")
    points = np.stack([i, j, k], -1) * np.asarray(spacing) + np.asarray(origin)
    frame = sample_data.uid(f"shift {tmp_path.name}")
    sample_data.write_series(tmp_path / "fixed", phantom(points), origin=origin,
                             spacing=spacing, study="SHIFT", series_number=1,
                             study_date="20260101", description="fixed")
    sample_data.write_series(tmp_path / "moving", phantom(points - shift), origin=origin,
                             spacing=spacing, study="SHIFT", series_number=2,
                             study_date="20260101", description="moving",
                             frame_of_reference=frame)
    vectors = np.broadcast_to(shift if carrier == "field" else np.zeros(3),
                              (*size[::-1], 3)).astype(np.float32)
    field = write_field(tmp_path / "field.mha", vectors, origin=origin, spacing=spacing,
                        direction=np.eye(3))
    matrix = f"1 0 0 {shift[0]}, 0 1 0 {shift[1]}, 0 0 1 {shift[2]}, 0 0 0 1"
    extra = [] if carrier == "field" else ["--set", f"{carrier}DeformationMatrix={matrix}"]
    reg, out = tmp_path / "reg.dcm", tmp_path / "warped.nii.gz"
    assert main(["save", str(field), "--fixed", str(tmp_path / "fixed"), "--moving",
                 str(tmp_path / "moving"), "-o", str(reg), "--no-dciodvfy", *extra]) == 0
    assert main(["warp", str(reg), str(tmp_path / "moving"), "-o", str(out),
                 "--reference", str(tmp_path / "fixed")]) == 0
    warped = sitk.GetArrayFromImage(sitk.ReadImage(str(out)))
    # The same resampling through a plain translation by s, done by SimpleITK alone: the REG's
    # convention (pull, LPS, mm; pre, grid, post) must give exactly this.
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sorted(str(p) for p in (tmp_path / "moving").iterdir()))
    moving = sitk.Cast(reader.Execute(), sitk.sitkFloat32)
    reference = sitk.GetArrayFromImage(sitk.Resample(
        moving, moving, sitk.TranslationTransform(3, tuple(shift)), sitk.sitkLinear, -1024.0))
    assert np.abs(warped - reference).max() < 1e-3
    # ... and it undoes the shift: the fixed image, up to rounding to integers in the series
    # and linear interpolation of a smooth image.
    inner = (slice(3, -3), slice(5, -5), slice(5, -5))
    difference = np.abs(warped - np.rint(phantom(points)))[inner]
    assert difference.max() < 15 and difference.mean() < 2


def test_warp_reports_how_much_of_the_grid_lands_in_the_moving_image(tmp_path, capsys):
    """A REG checked against an image it does not reach warns instead of a silent blank."""
    case = make_case(tmp_path)
    far, near = tmp_path / "far.dcm", tmp_path / "near.dcm"
    zero = np.zeros((4, 6, 8, 3), np.float32)  # make_case's default grid
    field = write_field(tmp_path / "zero.mha", zero, origin=(-10.0, -8.0, -6.0),
                        spacing=(2.0, 2.0, 3.0), direction=np.eye(3))
    for out, shift in ((near, 0.0), (far, 1000.0)):
        assert main(["save", str(field), "--fixed", str(case.fixed), "-o", str(out),
                     "--no-dciodvfy", "--set",
                     f"postDeformationMatrix=1 0 0 {shift}, 0 1 0 0, 0 0 1 0, 0 0 0 1"]) == 0
    capsys.readouterr()
    assert main(["warp", str(near), str(case.fixed), "-o", str(tmp_path / "n.mha")]) == 0
    captured = capsys.readouterr()
    assert "(100% of its points map inside the moving image)" in captured.out
    assert captured.err == ""
    assert main(["warp", str(far), str(case.fixed), "-o", str(tmp_path / "f.mha")]) == 0
    captured = capsys.readouterr()
    assert "(0% of its points map inside the moving image)" in captured.out
    assert "warning: no point of the grid maps inside" in captured.err


def test_warp_onto_and_from_a_multiframe_instance(tmp_path, capsys):
    """The series reader gives one multi-frame file a 4th axis of one; it is dropped, and the
    result is the same as through the single-frame series of the same geometry."""
    from conftest import write_multiframe

    case = make_case(tmp_path)
    reg = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(reg), "--no-dciodvfy"]) == 0
    multiframe = write_multiframe(tmp_path / "multiframe.dcm", frames=4)  # the fixed grid
    results = {}
    for name, reference in (("series", case.fixed), ("multiframe", multiframe)):
        out = tmp_path / f"{name}.mha"
        assert main(["warp", str(reg), str(case.moving), "-o", str(out), "--reference",
                     str(reference)]) == 0
        results[name] = sitk.ReadImage(str(out))
    assert results["multiframe"].GetSize() == results["series"].GetSize() == (8, 6, 4)
    assert np.allclose(results["multiframe"].GetOrigin(), results["series"].GetOrigin())
    assert np.array_equal(sitk.GetArrayFromImage(results["multiframe"]),
                          sitk.GetArrayFromImage(results["series"]))
    out = tmp_path / "from_multiframe.mha"
    assert main(["warp", str(reg), str(multiframe), "-o", str(out)]) == 0
    assert sitk.ReadImage(str(out)).GetDimension() == 3

    flat = tmp_path / "slice.png"
    sitk.WriteImage(sitk.Image(8, 6, sitk.sitkUInt8), str(flat))
    capsys.readouterr()
    assert main(["warp", str(reg), str(flat), "-o", str(tmp_path / "flat.mha")]) == 1
    assert f"'{flat}' is a 2-D image; expected a 3-D image" in capsys.readouterr().err
    assert not (tmp_path / "flat.mha").exists()


def test_map_a_point(tmp_path, capsys):
    case = make_case(tmp_path)
    reg = tmp_path / "reg.dcm"
    save_on_fixed(case, reg, "--set", "postDeformationMatrix=1 0 0 100, 0 1 0 0, 0 0 1 0, 0 0 0 1")
    capsys.readouterr()
    # At the first voxel centre: the first vector, then the post-deformation translation.
    origin = read_deformable_registration(reg).deformable_item.grid.geometry.origin
    assert main(["map", str(reg), *map(str, origin)]) == 0
    out = capsys.readouterr().out
    expected = np.asarray(origin) + case.vectors[0, 0, 0] + [100, 0, 0]
    assert " -> " + " ".join(f"{v:.4f}" for v in expected) in out


# --- reading what others write ----------------------------------------------------------------


def test_undefined_vectors_leave_their_voxels_undefined_in_a_warp(tmp_path):
    """NaN in the grid: the voxels whose nearest grid vector it is show the undefined value,
    on the registration grid and on another reference grid; the others are warped."""
    from pydicom import dcmread

    case = make_case(tmp_path)
    reg = tmp_path / "reg.dcm"
    save_on_fixed(case, reg)
    ds = dcmread(reg)
    gridded = ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]
    vectors = np.zeros_like(case.vectors)  # every point maps inside the moving image
    vectors[2, 3, 4] = np.nan
    gridded.VectorGridData = vectors.astype("<f4").tobytes()
    ds.save_as(reg)
    shifted = sitk.Image([8, 6, 4], sitk.sitkInt16)  # a third of a voxel along x
    shifted.SetOrigin((-10.0 + 2 / 3, -8.0, -6.0))
    shifted.SetSpacing((2.0, 2.0, 3.0))
    sitk.WriteImage(shifted, str(tmp_path / "shifted.mha"))
    for extra in ([], ["--reference", str(tmp_path / "shifted.mha")]):
        out = tmp_path / "warped.mha"
        assert main(["warp", str(reg), str(case.moving), "-o", str(out), "--undefined-value",
                     "-5000", *extra]) == 0
        values = sitk.GetArrayFromImage(sitk.ReadImage(str(out)))
        assert [tuple(i) for i in np.argwhere(values == -5000)] == [(2, 3, 4)]


def test_the_registration_transform_maps_the_grid_as_source_points(tmp_path):
    from conftest import MATRICES

    from dicomreg.core.reg import registration_transform, source_points

    case = make_case(tmp_path, size=(10, 8, 6), orientation=(0.8, 0.6, 0, -0.6, 0.8, 0))
    reg = tmp_path / "reg.dcm"
    save_on_fixed(case, reg, *MATRICES)
    item = read_deformable_registration(reg).deformable_item
    geometry = item.grid.geometry
    index = np.random.default_rng(2).uniform(0, 1, (50, 3)) * (np.asarray(geometry.size) - 1)
    points = geometry.index_to_point(index)
    transform = registration_transform(item)
    through = np.array([transform.TransformPoint(tuple(p)) for p in points])
    assert np.abs(through - source_points(item, points)).max() < 1e-6
