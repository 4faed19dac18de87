"""Interoperability: other tools' conventions and transform files, applying a REG, and
reading what others write (plastimatch, files with known faults)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import dciodvfy_counts, make_case, sample_data, write_field
from pydicom import dcmread
from pydicom.dataset import Dataset

from dicomreg.core.cli.main import main
from dicomreg.core.reg import RegReadError, read_deformable_registration

ROTATED = np.array([[0.8, -0.6, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])


def save(case, field, out, *extra):
    assert main(["save", str(field), "--fixed", str(case.fixed), "--moving", str(case.moving),
                 "-o", str(out), "--no-dciodvfy", *extra]) == 0, extra
    return read_deformable_registration(out)


def grid(registration):
    return np.asarray(registration.deformable_item.grid.voxels)


@pytest.fixture
def rotated_case(tmp_path):
    orientation = tuple(ROTATED[:, 0]) + tuple(ROTATED[:, 1])
    return make_case(tmp_path, size=(10, 8, 6), orientation=orientation,
                     spacing=(1.5, 2.0, 2.5), origin=(12.0, -30.0, 7.5))


# --- import conventions -----------------------------------------------------------------------

def test_each_convention_gives_the_same_reg(rotated_case, tmp_path):
    case = rotated_case
    reference = save(case, case.field, tmp_path / "itk.dcm")
    field_image = sitk.ReadImage(str(case.field))
    v = case.vectors.astype(np.float64)
    direction = np.asarray(field_image.GetDirection()).reshape(3, 3)
    spacing = np.asarray(field_image.GetSpacing())

    def variant(name, vectors):
        return write_field(tmp_path / f"{name}.mha", vectors.astype(np.float32),
                           origin=field_image.GetOrigin(), spacing=spacing, direction=direction)

    ras = v.copy()
    ras[..., :2] *= -1
    got = save(case, variant("ras", ras), tmp_path / "ras.dcm", "--components", "ras")
    assert np.array_equal(grid(got), grid(reference))

    voxel = v @ np.linalg.inv(direction * spacing).T
    got = save(case, variant("voxel", voxel), tmp_path / "voxel.dcm", "--units", "voxel")
    assert np.allclose(grid(got), grid(reference), atol=1e-5)

    z, y, x = v.shape[:3]
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    positions = np.stack([i, j, k], -1) @ (direction * spacing).T + field_image.GetOrigin()
    got = save(case, variant("deformation", positions + v), tmp_path / "def.dcm", "--kind",
               "deformation")
    assert np.allclose(grid(got), grid(reference), atol=1e-4)


def test_nifti_fields_by_their_intent(rotated_case, tmp_path, capsys):
    """NIfTI vector intent (1007, as ITK and ANTs write): components as stored, ITK's LPS, or
    RAS with --components ras (NiftyReg). Displacement-vector intent (1006): RAS by NIfTI's
    rule, turned into LPS by ITK on reading, so --components ras would negate twice."""
    import struct

    case = rotated_case
    reference = grid(save(case, case.field, tmp_path / "itk.dcm"))
    field_image = sitk.ReadImage(str(case.field))

    def nifti(name, vectors, intent):
        image = sitk.GetImageFromArray(vectors.astype(np.float32), isVector=True)
        image.CopyInformation(field_image)
        path = tmp_path / f"{name}.nii"
        sitk.WriteImage(image, str(path))
        header = bytearray(path.read_bytes())
        assert struct.unpack("<h", header[68:70])[0] == 1007  # what SimpleITK writes
        header[68:70] = struct.pack("<h", intent)
        path.write_bytes(bytes(header))
        return path

    lps = case.vectors.astype(np.float64)
    ras = lps * np.array([-1.0, -1.0, 1.0])
    assert np.array_equal(grid(save(case, nifti("vector", lps, 1007), tmp_path / "a.dcm")),
                          reference)
    assert np.array_equal(grid(save(case, nifti("niftyreg", ras, 1007), tmp_path / "b.dcm",
                                    "--components", "ras")), reference)
    capsys.readouterr()
    dispvect = nifti("dispvect", ras, 1006)
    assert np.array_equal(grid(save(case, dispvect, tmp_path / "c.dcm")), reference)
    assert "intent 1006): its RAS components were turned into LPS" in capsys.readouterr().out
    assert main(["save", str(dispvect), "--fixed", str(case.fixed), "-o",
                 str(tmp_path / "d.dcm"), "--components", "ras", "--no-dciodvfy"]) == 1
    assert "were turned into LPS on reading (NIfTI displacement-vector field" in (
        capsys.readouterr().err)
    assert not (tmp_path / "d.dcm").exists()


@pytest.mark.parametrize("suffix", [".nii.gz", ".mha"])
def test_a_4d_image_of_three_volumes_is_read_as_the_components(rotated_case, tmp_path, suffix,
                                                                capsys):
    """Numpy-based tools often save a field as a 4-D scalar image (x, y, z, 3)."""
    case = rotated_case
    reference = grid(save(case, case.field, tmp_path / "itk.dcm"))
    field_image = sitk.ReadImage(str(case.field))
    volumes = []
    for c in range(3):
        volume = sitk.VectorIndexSelectionCast(field_image, c)
        volume.CopyInformation(field_image)
        volumes.append(volume)
    four_d = sitk.JoinSeries(volumes)
    direction = np.eye(4)
    direction[:3, :3] = np.asarray(field_image.GetDirection()).reshape(3, 3)
    four_d.SetDirection(direction.ravel().tolist())
    path = tmp_path / f"four_d{suffix}"
    sitk.WriteImage(four_d, str(path))
    capsys.readouterr()
    got = save(case, path, tmp_path / "four_d.dcm")
    assert np.array_equal(grid(got), reference)
    expected = read_deformable_registration(tmp_path / "itk.dcm").deformable_item.grid.geometry
    geometry = got.deformable_item.grid.geometry
    assert geometry.size == expected.size
    for name in ("spacing", "origin", "direction"):  # NIfTI keeps them in float32
        assert np.allclose(getattr(geometry, name), getattr(expected, name), atol=1e-6), name
    assert "4-D image of 3 volumes: they were read as the x, y and z components" in (
        capsys.readouterr().out)
    assert dciodvfy_counts(tmp_path / "four_d.dcm") == ([], [])

    # Stated conventions apply as they do to a vector file.
    ras = grid(save(case, path, tmp_path / "ras.dcm", "--components", "ras"))
    assert np.array_equal(ras, reference * np.array([-1, -1, 1], dtype=np.float32))

    if suffix != ".mha":
        return  # NIfTI has no place for a 4th axis mixed with the others
    # A 4th axis mixed with the others is no stack of components.
    direction[0, 3] = direction[3, 0] = 0.5
    four_d.SetDirection(direction.ravel().tolist())
    sitk.WriteImage(four_d, str(path))
    assert main(["save", str(path), "--fixed", str(case.fixed), "-o",
                 str(tmp_path / "oblique.dcm"), "--no-dciodvfy"]) == 1
    assert "4th axis is oblique" in capsys.readouterr().err
    assert not (tmp_path / "oblique.dcm").exists()


def test_a_4d_nifti_with_the_displacement_intent_is_refused(rotated_case, tmp_path, capsys):
    """ITK reads such a file as neither the vectors nor the volumes stored in it."""
    import struct

    field_image = sitk.ReadImage(str(rotated_case.field))
    four_d = sitk.JoinSeries([sitk.VectorIndexSelectionCast(field_image, c) for c in range(3)])
    path = tmp_path / "four_d.nii"
    sitk.WriteImage(four_d, str(path))
    header = bytearray(path.read_bytes())
    header[68:70] = struct.pack("<h", 1006)
    path.write_bytes(bytes(header))
    assert main(["save", str(path), "--fixed", str(rotated_case.fixed), "-o",
                 str(tmp_path / "out.dcm"), "--no-dciodvfy"]) == 1
    assert "displacement-vector intent (1006), which ITK does not read correctly" in (
        capsys.readouterr().err)
    assert not (tmp_path / "out.dcm").exists()


@pytest.mark.parametrize(("space", "signs"), [("left-posterior-superior", (1, 1, 1)),
                                             ("right-anterior-superior", (-1, -1, 1)),
                                             ("left-anterior-superior", (1, -1, 1))])
def test_nrrd_vectors_are_in_the_space_the_header_declares(rotated_case, tmp_path, capsys,
                                                          space, signs):
    """ITK turns a NRRD grid in RAS or LAS into LPS but leaves the vectors as stored: they are
    in the declared space, and must be turned into LPS too."""
    case = rotated_case
    reference = grid(save(case, case.field, tmp_path / "itk.dcm"))
    field_image = sitk.ReadImage(str(case.field))
    # The same field written in the declared space: grid and vectors both.
    to_space = np.diag(np.asarray(signs, dtype=float))
    direction = to_space @ np.asarray(field_image.GetDirection()).reshape(3, 3)
    origin = to_space @ np.asarray(field_image.GetOrigin())
    vectors = (case.vectors.astype(np.float64) * np.asarray(signs)).astype(np.float32)
    image = sitk.GetImageFromArray(vectors, isVector=True)
    image.SetSpacing(field_image.GetSpacing())
    path = tmp_path / "field.nrrd"
    sitk.WriteImage(image, str(path), useCompression=False)
    text = path.read_bytes()
    head, _, data = text.partition(b"\n\n")
    lines = [line for line in head.decode().splitlines()
             if not line.startswith(("space:", "space directions:", "space origin:"))]
    columns = " ".join("(" + ",".join(repr(float(v)) for v in direction[:, axis]) + ")"
                       for axis in range(3))
    lines += [f"space: {space}", f"space directions: none {columns}",
              "space origin: (" + ",".join(repr(float(v)) for v in origin) + ")"]
    path.write_bytes("\n".join(lines).encode() + b"\n\n" + data)
    got = save(case, path, tmp_path / "nrrd.dcm")
    assert np.array_equal(grid(got), reference)
    assert np.allclose(got.deformable_item.grid.geometry.origin, field_image.GetOrigin())
    if signs != (1, 1, 1):
        assert f"NRRD space {space}: the vectors' components were turned into LPS" in (
            capsys.readouterr().out)
        assert main(["save", str(path), "--fixed", str(case.fixed), "-o",
                     str(tmp_path / "x.dcm"), "--components", "ras", "--no-dciodvfy"]) == 1
        assert "leave components at lps" in capsys.readouterr().err


def test_nrrd_with_a_measurement_frame_is_refused(tmp_path, capsys):
    image = sitk.GetImageFromArray(np.zeros((2, 3, 4, 3), np.float32), isVector=True)
    path = tmp_path / "field.nrrd"
    sitk.WriteImage(image, str(path), useCompression=False)
    head, _, data = path.read_bytes().partition(b"\n\n")
    path.write_bytes(head + b"\nmeasurement frame: (0,1,0) (1,0,0) (0,0,1)\n\n" + data)
    assert main(["save", str(path), "-o", str(tmp_path / "reg.dcm"), "--no-dciodvfy"]) == 1
    assert "has a measurement frame" in capsys.readouterr().err
    assert not (tmp_path / "reg.dcm").exists()


def test_a_push_field_is_inverted_with_its_residual_reported(tmp_path, capsys):
    case = make_case(tmp_path, size=(24, 20, 12), spacing=(2.0, 2.0, 3.0))
    origin = sitk.ReadImage(str(case.field)).GetOrigin()
    z, y, x = 12, 20, 24
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    points = np.stack([i * 2.0, j * 2.0, k * 3.0], -1) + origin
    centre = points.reshape(-1, 3).mean(axis=0)

    def push(at):
        """An analytic push field u: a moving point at + u(at) is the fixed point."""
        bump = np.exp(-np.sum(((at - centre) / 12.0) ** 2, -1))[..., None]
        return -(np.array([3.0, -2.0, 1.0]) + 2.0 * bump * np.array([1.0, 0.5, 0.0]))

    # The exact pull field: for each fixed point p, the moving point m with m + u(m) = p,
    # by fixed-point iteration on the analytic u (a contraction: |grad u| < 1).
    moving = points.copy()
    for _ in range(200):
        moving = points - push(moving)
    exact = moving - points
    push_file = write_field(tmp_path / "push.mha", push(points).astype(np.float32),
                            origin=origin, spacing=(2, 2, 3), direction=np.eye(3))
    got = save(case, push_file, tmp_path / "push.dcm", "--direction", "push")
    note = next(line for line in capsys.readouterr().out.splitlines()
                if "push field inverted" in line)
    residual = float(note.split("residual max ")[1].split(" mm")[0])
    assert residual < 0.05 and "map off the push field's grid" in note  # the borders do
    # Inside the region where x + v(x) stays on the push field's grid (v is up to 5 mm). The
    # inversion has converged there (more iterations change nothing); what remains is the
    # linear interpolation of u sampled on 2 to 3 mm voxels, about 0.06 mm at the bump's
    # centre for this field: the bound is 0.1 mm, some 3% of the smallest voxel.
    inner = (slice(1, -1), slice(2, -2), slice(4, -4))
    error = np.linalg.norm(grid(got) - exact, axis=-1)[inner]
    assert error.max() < 0.1 and error.mean() < 0.01  # mm, for vectors of 3 to 5 mm


def test_a_field_off_the_fixed_image_is_warned_about(tmp_path, capsys):
    case = make_case(tmp_path)
    far = write_field(tmp_path / "far.mha", case.vectors, origin=(900.0, 900.0, 900.0),
                      spacing=(2, 2, 3), direction=np.eye(3))
    save(case, far, tmp_path / "far.dcm")
    assert "warning: the field's grid does not overlap the fixed image at all" in \
        capsys.readouterr().out


@pytest.mark.parametrize("option", [["--components", "upside-down"], ["--units", "inch"]])
def test_unknown_conventions_are_refused(tmp_path, option):
    case = make_case(tmp_path)
    with pytest.raises(SystemExit):  # argparse: exit status 2 and the choices listed
        main(["save", str(case.field), "-o", str(tmp_path / "x.dcm"), *option])


# --- ITK transform files ----------------------------------------------------------------------

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
    elif expected_type == "RIGID":
        assert np.allclose(item.pre_matrix, matrix, atol=1e-6)
        assert item.pre_matrix_type == "RIGID"
    else:  # a non-rigid pre-deformation part cannot move the grid: sampled into it
        assert np.allclose(item.pre_matrix, np.eye(4))
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
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(reg),
                 "--no-dciodvfy", "--set",
                 "postDeformationMatrix=1 0 0 100, 0 1 0 0, 0 0 1 0, 0 0 0 1"]) == 0
    capsys.readouterr()
    # At the first voxel centre: the first vector, then the post-deformation translation.
    origin = read_deformable_registration(reg).deformable_item.grid.geometry.origin
    assert main(["map", str(reg), *map(str, origin)]) == 0
    out = capsys.readouterr().out
    expected = np.asarray(origin) + case.vectors[0, 0, 0] + [100, 0, 0]
    assert " -> " + " ".join(f"{v:.4f}" for v in expected) in out


# --- reading what others write ----------------------------------------------------------------

def test_plastimatch_files_read_back_to_their_field_bit_exactly(tmp_path):
    assert shutil.which("plastimatch"), "plastimatch is a test tool: apt-get install plastimatch"
    case = make_case(tmp_path, size=(16, 12, 8))
    out = tmp_path / "plm"
    subprocess.run(["plastimatch", "xf-convert", "--input", str(case.field), "--output-dicom",
                    str(out), "--fixed-rcs", str(case.fixed), "--moving-rcs",
                    str(case.moving)], check=True, capture_output=True)
    registration = read_deformable_registration(next(out.glob("*.dcm")))
    assert np.array_equal(grid(registration).view(np.uint32), case.vectors.view(np.uint32))
    field = sitk.ReadImage(str(case.field))
    geometry = registration.deformable_item.grid.geometry
    assert np.allclose(geometry.origin, field.GetOrigin())
    assert np.allclose(geometry.spacing, field.GetSpacing())


def our_reg(tmp_path):
    case = make_case(tmp_path)
    reg = tmp_path / "reg.dcm"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o", str(reg),
                 "--no-dciodvfy"]) == 0
    return case, reg


def test_several_items_and_undefined_vectors(tmp_path, capsys):
    case, reg = our_reg(tmp_path)
    ds = dcmread(reg)
    identity = Dataset()
    identity.SourceFrameOfReferenceUID = ds.FrameOfReferenceUID
    identity.RegistrationTypeCodeSequence = []
    ds.DeformableRegistrationSequence.insert(0, identity)
    gridded = ds.DeformableRegistrationSequence[1].DeformableRegistrationGridSequence[0]
    vectors = np.frombuffer(gridded.VectorGridData, "<f4").copy().reshape(case.vectors.shape)
    vectors[0, 0, 0] = np.nan
    gridded.VectorGridData = vectors.tobytes()
    ds.save_as(reg)
    registration = read_deformable_registration(reg)
    assert len(registration.items) == 2 and registration.items[0].grid is None
    assert np.isnan(grid(registration)[0, 0, 0]).all()
    origin = registration.deformable_item.grid.geometry.origin
    capsys.readouterr()
    assert main(["map", str(reg), *map(str, origin)]) == 0
    assert "undefined" in capsys.readouterr().out
    assert main(["map", str(reg), "0", "0", "0", "--item", "1"]) == 1
    assert "item 1 holds no grid" in capsys.readouterr().err


def test_rigid_class_with_deformable_content(tmp_path, capsys):
    _case, reg = our_reg(tmp_path)
    ds = dcmread(reg)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.1"
    ds.save_as(reg)
    with pytest.raises(RegReadError, match="is a Spatial Registration Storage, not a Deformable"
                       ".*read it with --accept-spatial-registration-class"):
        read_deformable_registration(reg)
    registration = read_deformable_registration(reg, accept_spatial_registration_class=True)
    assert "a known fault of some writers" in registration.notes[0]
    assert main(["read", str(reg), "-o", str(tmp_path / "f.mha"),
                 "--accept-spatial-registration-class"]) == 0


def test_vectors_in_voxel_units(tmp_path):
    case, reg = our_reg(tmp_path)
    ds = dcmread(reg)
    gridded = ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]
    spacing = np.asarray(gridded.GridResolution)
    gridded.VectorGridData = (case.vectors / spacing).astype("<f4").tobytes()  # the fault
    ds.save_as(reg)
    fixed = read_deformable_registration(reg, vector_units="voxel")
    assert np.allclose(grid(fixed), case.vectors, atol=1e-5)
    assert "voxel steps" in fixed.notes[0]


def test_grid_data_of_the_wrong_length(tmp_path):
    case, reg = our_reg(tmp_path)
    ds = dcmread(reg)
    gridded = ds.DeformableRegistrationSequence[0].DeformableRegistrationGridSequence[0]
    data = gridded.VectorGridData
    gridded.VectorGridData = data + b"\0" * 24
    ds.save_as(reg)
    with pytest.raises(RegReadError, match="holds 2328 bytes; the Grid Dimensions need 2304 .*"
                       "--ignore-extra-bytes"):
        read_deformable_registration(reg)
    assert np.array_equal(grid(read_deformable_registration(reg, ignore_extra_bytes=True)),
                          case.vectors)
    gridded.VectorGridData = data[:-24]
    ds.save_as(reg)
    with pytest.raises(RegReadError, match="holds 2280 bytes; the Grid Dimensions need 2304"):
        read_deformable_registration(reg, ignore_extra_bytes=True)
