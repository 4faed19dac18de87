"""ITK transform files: displacement field, B-spline and composite transforms, and the
files that share their suffixes (elastix, damaged ones)."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import dciodvfy_counts, grid, make_case, save

from dicomreg.core.cli.main import main


def test_displacement_field_transform_equals_the_field(rotated_case, tmp_path):
    case = rotated_case
    reference = save(case, case.field, tmp_path / "field.dcm")
    transform = sitk.DisplacementFieldTransform(
        sitk.ReadImage(str(case.field), sitk.sitkVectorFloat64))
    for suffix in (".h5", ".tfm"):
        path = tmp_path / f"t{suffix}"
        sitk.WriteTransform(transform, str(path))
        got = save(case, path, tmp_path / f"t{suffix}.dcm")
        assert np.array_equal(grid(got), grid(reference))
        assert np.allclose(got.deformable_item.grid.geometry.origin,
                           reference.deformable_item.grid.geometry.origin)


def bspline(case):
    fixed = sitk.ReadImage(str(case.field))
    transform = sitk.BSplineTransformInitializer(fixed, [3, 3, 3])
    parameters = np.random.default_rng(7).normal(0, 2.0, len(transform.GetParameters()))
    transform.SetParameters(tuple(parameters))
    return transform


def test_bspline_sampled_on_the_fixed_grid(tmp_path):
    case = make_case(tmp_path, size=(12, 10, 6))
    transform = bspline(case)
    sitk.WriteTransform(transform, str(tmp_path / "b.h5"))
    got = save(case, tmp_path / "b.h5", tmp_path / "b.dcm")
    fixed = sitk.ReadImage(str(case.field))
    expected = sitk.GetArrayFromImage(sitk.TransformToDisplacementField(
        transform, sitk.sitkVectorFloat64, fixed.GetSize(), fixed.GetOrigin(),
        fixed.GetSpacing(), fixed.GetDirection()))
    assert np.allclose(grid(got), expected, atol=1e-5)
    assert dciodvfy_counts(tmp_path / "b.dcm") == ([], [])


def test_damaged_transform_files_are_refused_in_one_line(tmp_path, capsys):
    """ITK reads a cut text transform without complaint (the rest of its parameters left at
    zero); HDF5 prints a long stack for a cut .h5. Each is one line here, and no file."""
    case = make_case(tmp_path, size=(12, 10, 6))
    composite = sitk.CompositeTransform([sitk.Euler3DTransform(), bspline(case)])
    text = tmp_path / "c.tfm"
    sitk.WriteTransform(composite, str(text))
    content = text.read_text()
    cut_parameters = tmp_path / "cut_parameters.tfm"
    cut_parameters.write_text(content[: content.rindex("FixedParameters") - 400])
    no_fixed = tmp_path / "no_fixed.tfm"
    no_fixed.write_text(content[: content.rindex("FixedParameters")])
    h5 = tmp_path / "c.h5"
    sitk.WriteTransform(composite, str(h5))
    cut_h5 = tmp_path / "cut.h5"
    cut_h5.write_bytes(h5.read_bytes()[: h5.stat().st_size // 2])
    out = tmp_path / "out.dcm"
    damaged = "(a truncated or damaged file)"
    expected = {
        cut_parameters: ("transform 1 (BSplineTransform_double_3_3) lists ", damaged),
        # Without its grid, ITK gives the B-spline a default one of another size.
        no_fixed: ("transform 1 (BSplineTransform_double_3_3) lists ", damaged),
        cut_h5: ("the HDF5 file is truncated, ",),
    }
    for path, messages in expected.items():
        assert main(["save", str(path), "--fixed", str(case.fixed), "-o", str(out),
                     "--no-dciodvfy"]) == 1, path
        error = capsys.readouterr().err
        assert all(message in error for message in messages), error
        assert len(error.strip().splitlines()) == 1 and not out.exists()
    assert save(case, text, out)  # the whole text file is read as before


@pytest.mark.parametrize(("linear", "expected_type"), [
    (sitk.Euler3DTransform((0, 0, 0), 0.1, -0.2, 0.3, (5.0, -3.0, 2.0)), "RIGID"),
    (sitk.ScaleTransform(3, (1.2, 1.2, 0.9)), "RIGID_SCALE"),
    (sitk.AffineTransform((1, 0.2, 0, 0, 1, 0, 0, 0, 1), (1, 2, 3)), "AFFINE"),
])
@pytest.mark.parametrize("linear_applied", ["after", "before"])
def test_composite_linear_parts_become_typed_matrices(tmp_path, linear, expected_type,
                                                      linear_applied):
    case = make_case(tmp_path, size=(12, 10, 6))
    deformable = bspline(case)
    # ITK applies the last added first: [linear, deformable] applies the deformation first.
    parts = [linear, deformable] if linear_applied == "after" else [deformable, linear]
    composite = sitk.CompositeTransform(parts)
    sitk.WriteTransform(composite, str(tmp_path / "c.h5"))
    out = tmp_path / "c.dcm"
    registration = save(case, tmp_path / "c.h5", out)
    item = registration.deformable_item
    matrix = np.eye(4)
    matrix[:3, :3] = np.asarray(linear.GetMatrix()).reshape(3, 3) if hasattr(
        linear, "GetMatrix") else np.diag(linear.GetScale())
    center = np.asarray(linear.GetCenter()) if hasattr(linear, "GetCenter") else np.zeros(3)
    offset = (np.asarray(linear.GetTranslation()) if hasattr(linear, "GetTranslation")
              else np.zeros(3))
    matrix[:3, 3] = offset + center - matrix[:3, :3] @ center
    if linear_applied == "after":
        assert np.allclose(item.post_matrix, matrix, atol=1e-6)
        assert item.post_matrix_type == expected_type
        assert np.allclose(item.pre_matrix, np.eye(4))
    else:
        # Read the old way (the grid's vector taken at Pre p), a REG could hold a pre matrix
        # only if Pre moved the grid onto a DICOM grid (rigid): an AFFINE or RIGID_SCALE part
        # was folded into the field. The standard takes D at p itself, so the grid stays on
        # the fixed image's points, holds u(Pre p), and every type of Pre is kept.
        assert np.allclose(item.pre_matrix, matrix, atol=1e-6)
        assert item.pre_matrix_type == expected_type
        assert np.allclose(item.post_matrix, np.eye(4))
    assert dciodvfy_counts(out) == ([], [])
    # Whatever the split, the REG maps points as the composite transform does.
    fixed = sitk.ReadImage(str(case.field))
    for index in [(1, 1, 1), (5, 4, 2), (10, 8, 4)]:
        point = fixed.TransformIndexToPhysicalPoint(index)
        from dicomreg.core.reg import map_points

        assert np.allclose(map_points(registration, [point])[0],
                           composite.TransformPoint(point), atol=1e-3)


def test_an_elastix_parameter_file_is_named_with_the_way_to_a_field(tmp_path, capsys):
    parameters = tmp_path / "TransformParameters.0.txt"
    parameters.write_text('// elastix\n(Transform "BSplineTransform")\n(NumberOfParameters 3)\n'
                          "(TransformParameters 0 0 0)\n")
    assert main(["save", str(parameters), "-o", str(tmp_path / "reg.dcm")]) == 1
    err = capsys.readouterr().err
    assert "is an elastix transform parameter file" in err
    assert "transformix -def all -tp TransformParameters.0.txt" in err
    assert not (tmp_path / "reg.dcm").exists()
    native = tmp_path / "bspline.txt"
    native.write_text("MGH_GPUIT_BSP <experimental>\nimg_origin = 0 0 0\n")
    assert main(["save", str(native), "-o", str(tmp_path / "reg.dcm")]) == 1
    assert "is a plastimatch native transform" in capsys.readouterr().err


def test_linear_only_transform_is_refused(tmp_path, capsys):
    case = make_case(tmp_path)
    sitk.WriteTransform(sitk.Euler3DTransform(), str(tmp_path / "rigid.tfm"))
    assert main(["save", str(tmp_path / "rigid.tfm"), "--fixed", str(case.fixed), "-o",
                 str(tmp_path / "x.dcm")]) == 1
    assert "holds only linear transforms" in capsys.readouterr().err


def test_bspline_without_a_fixed_grid_is_refused(tmp_path, capsys):
    case = make_case(tmp_path)
    sitk.WriteTransform(bspline(case), str(tmp_path / "b.h5"))
    assert main(["save", str(tmp_path / "b.h5"), "-o", str(tmp_path / "x.dcm")]) == 1
    assert "sampled on the fixed image's grid: give the fixed image" in capsys.readouterr().err


# --- applying a REG -----------------------------------------------------------------------------


def _h5(tmp_path, case):
    path = tmp_path / "b.h5"
    sitk.WriteTransform(bspline(case), str(path))
    return path


def _save_refused(case, path, tmp_path, capsys) -> str:
    out = tmp_path / "out.dcm"
    assert main(["save", str(path), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and not out.exists(), err
    return err[0]


def test_hdf5_transforms_are_checked_before_itk_reads_them_here(tmp_path, capsys):
    """The signature, the superblock's end of file against the file's size: refused before
    libhdf5 sees the file at all, by what the HDF5 format says (superblock version 2, as ITK
    writes it: 8-byte offsets, the end-of-file address at byte 28)."""
    import struct

    case = make_case(tmp_path, size=(12, 10, 6))
    good = _h5(tmp_path, case).read_bytes()
    assert good[:8] == b"\x89HDF\r\n\x1a\n" and good[8] == 2
    assert struct.unpack_from("<Q", good, 28)[0] == len(good)
    no_signature = tmp_path / "no_signature.h5"
    no_signature.write_bytes(b"\0" * 8 + good[8:])
    assert "is not an HDF5 file (no HDF5 signature)" in _save_refused(
        case, no_signature, tmp_path, capsys)
    claims_more = tmp_path / "claims_more.h5"
    claims_more.write_bytes(good[:28] + struct.pack("<Q", 10**12) + good[36:])
    assert f"the HDF5 file is truncated, {len(good)} of its {10**12} bytes" in _save_refused(
        case, claims_more, tmp_path, capsys)
    bad_version = tmp_path / "bad_version.h5"
    bad_version.write_bytes(good[:8] + b"\x07" + good[9:])
    assert "superblock version 7" in _save_refused(case, bad_version, tmp_path, capsys)


@pytest.mark.parametrize(("child", "expected"), [
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "ended with SIGSEGV"),
    ("import time; time.sleep(30)", "did not end in 1 s"),
    ("raise MemoryError", "needed more memory than the field size limit allows"),
])
def test_a_crash_a_hang_or_exhausted_memory_of_the_hdf5_read_is_one_line(
        tmp_path, capsys, monkeypatch, child, expected):
    """What libhdf5 might do with a hostile file, done by the bounded child in its place:
    this process goes on and says so in one line."""
    from dicomreg.core.deformation import transform_probe

    case = make_case(tmp_path, size=(12, 10, 6))
    path = _h5(tmp_path, case)
    monkeypatch.setattr(transform_probe, "_CHILD", child)
    monkeypatch.setattr(transform_probe, "_TIMEOUT", 1.0)
    assert expected in _save_refused(case, path, tmp_path, capsys)


def test_an_hdf5_transform_over_the_field_size_limit_is_refused(tmp_path, capsys,
                                                                monkeypatch):
    from dicomreg.core.input import limits as input_limits

    monkeypatch.setattr(input_limits, "_override", None)  # --max-field-size's, undone after
    case = make_case(tmp_path, size=(12, 10, 6))
    path = _h5(tmp_path, case)
    out = tmp_path / "out.dcm"
    assert main(["save", str(path), "--fixed", str(case.fixed), "-o", str(out),
                 "--no-dciodvfy", "--max-field-size", "1KB"]) == 1
    assert "more than the limit of 1.0 KB" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "expected"), [
    # Found by the generated fuzz cases: ITK set these from the shorter list and corrupted
    # its heap (SIGSEGV, or glibc's "corrupted size vs. prev_size" abort after our line).
    ("Transform: Euler3DTransform_double_3_3\nParameters: \nFixedParameters: 0 0 0\n",
     "transform 0 (Euler3DTransform_double_3_3) lists 0 parameters where it has 6"),
    ("Transform: Euler3DTransform_double_3_3\nParameters: 0 0\nFixedParameters: 0 0 0\n",
     "lists 2 parameters where it has 6"),
    ("Transform: DisplacementFieldTransform_double_3_3\nParameters: 0\nFixedParameters: "
     "1 1 1 0 0 0 1 1 1 1 0 0 0 1 0 0 0 1\n", "lists 1 parameters where it has 3"),
])
def test_text_transforms_list_the_parameters_their_kind_has(tmp_path, capsys, text, expected):
    case = make_case(tmp_path)
    path = tmp_path / "t.tfm"
    path.write_text("#Insight Transform File V1.0\n#Transform 0\n" + text)
    assert expected in _save_refused(case, path, tmp_path, capsys)


def test_a_text_transform_of_a_kind_not_checked_here_is_read_by_the_bounded_child(
        tmp_path, capsys, monkeypatch):
    from dicomreg.core.deformation import transform_probe

    case = make_case(tmp_path)
    path = tmp_path / "t.tfm"
    path.write_text("#Insight Transform File V1.0\n#Transform 0\nTransform: "
                    "CenteredEuler3DTransform_double_3_3\nParameters: 0\nFixedParameters: \n")
    monkeypatch.setattr(transform_probe, "_CHILD", "import os; os.abort()")
    assert "ended with SIGABRT" in _save_refused(case, path, tmp_path, capsys)
