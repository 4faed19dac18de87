"""Other tools' field conventions: components, units, kinds, directions, NIfTI intents,
4-D fields and NRRD spaces, each giving the REG an ITK-convention field gives."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import dciodvfy_counts, grid, make_case, save, write_field

from dicomreg.core.cli.main import main
from dicomreg.core.reg import read_deformable_registration

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


@pytest.mark.parametrize(("option", "value", "choices"), [
    ("components", "upside-down", "lps, ras"), ("units", "inch", "mm, voxel"),
    ("kind", "Displacement", "displacement, deformation"), ("direction", "", "pull, push")])
def test_a_field_convention_refuses_unknown_values_in_one_line(option, value, choices):
    from dicomreg.core.deformation import ConventionError, FieldConvention

    with pytest.raises(ConventionError) as raised:
        FieldConvention(**{option: value})
    assert str(raised.value) == f"{option}: {value!r} is not one of {choices}"
    assert "\n" not in str(raised.value)


def test_convention_options_are_the_conventions_choices():
    from dataclasses import FrozenInstanceError, asdict

    from dicomreg.core.deformation import CONVENTION_OPTIONS, FieldConvention

    assert CONVENTION_OPTIONS == {"components": ("lps", "ras"), "units": ("mm", "voxel"),
                                  "kind": ("displacement", "deformation"),
                                  "direction": ("pull", "push")}
    assert asdict(FieldConvention()) == {o: c[0] for o, c in CONVENTION_OPTIONS.items()}
    for option, choices in CONVENTION_OPTIONS.items():
        for choice in choices:
            assert getattr(FieldConvention(**{option: choice}), option) == choice
    with pytest.raises(FrozenInstanceError):
        FieldConvention().units = "voxel"


# --- ITK transform files ----------------------------------------------------------------------


def _smooth_push(size=(24, 20, 16)):
    """A smooth push field (gradients about 0.3) on a 1 x 1 x 2 mm grid, and its grid."""
    from dicomreg.core.image import Geometry

    geometry = Geometry(size, (1.0, 1.0, 2.0), (-3.0, 2.0, 1.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    x, y, z = size
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    u = np.stack([1.5 * np.sin(2 * np.pi * j / 20), 1.2 * np.cos(2 * np.pi * i / 24),
                  0.8 * np.sin(2 * np.pi * k / 16)], axis=-1)
    return u, geometry


def test_the_fixed_point_inverse_is_at_least_as_accurate_as_simpleitks():
    """The oracle is SimpleITK's InvertDisplacementField with the same tolerances, its
    residual measured by ITK (u resampled through ITK's transform of its inverse)."""
    import SimpleITK as sitk

    from dicomreg.core.deformation import invert_push_field

    u, geometry = _smooth_push()
    _, ours = invert_push_field(u, geometry, geometry)
    push = sitk.GetImageFromArray(u, isVector=True)
    push.SetOrigin(geometry.origin)
    push.SetSpacing(geometry.spacing)
    theirs = sitk.InvertDisplacementField(push, maximumNumberOfIterations=50,
                                          maxErrorToleranceThreshold=0.01,
                                          meanErrorToleranceThreshold=0.0001,
                                          enforceBoundaryCondition=False)
    v = sitk.GetArrayFromImage(theirs)
    there = sitk.GetArrayFromImage(sitk.Resample(
        push, push, sitk.DisplacementFieldTransform(sitk.Image(theirs)), sitk.sitkLinear, 0.0))
    residual = np.linalg.norm(v + there, axis=-1)[1:-1, 2:-2, 2:-2]  # off the border
    assert ours.max_mm <= 0.01
    assert ours.mean_mm <= max(float(residual.mean()), 1e-4)


def test_an_oblique_push_field_inverted_onto_another_grid_reports_its_own_residual():
    """u on a rotated grid, inverted onto a shifted, coarser axis-aligned grid: the residual
    reported, and the points counted off u's grid, are those of the field returned, by ITK's
    resampling of u through it (linear, as a DisplacementFieldTransform) and numpy's test
    of x + v(x) against u's grid; inside, the inverse is converged to the tolerance."""
    from dicomreg.core.deformation import invert_push_field
    from dicomreg.core.image import Geometry

    u, flat = _smooth_push((24, 20, 16))
    a, b = np.radians(20), np.radians(-8)
    turn = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]]) @ \
        np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    geometry = Geometry(flat.size, flat.spacing, flat.origin, tuple(turn.ravel()))
    target = Geometry((20, 18, 14), (1.2, 1.1, 2.2), (-4.0, 3.0, 0.0))
    v, inversion = invert_push_field(u, geometry, target)
    assert v.shape == (14, 18, 20, 3) and v.dtype == np.float32

    push = sitk.GetImageFromArray(u, isVector=True)
    push.SetOrigin(geometry.origin)
    push.SetSpacing(geometry.spacing)
    push.SetDirection(geometry.direction)
    pull = sitk.GetImageFromArray(v.astype(np.float64), isVector=True)
    pull.SetOrigin(target.origin)
    pull.SetSpacing(target.spacing)
    there = sitk.GetArrayFromImage(sitk.Resample(
        push, pull, sitk.DisplacementFieldTransform(sitk.Image(pull)), sitk.sitkLinear, 0.0))
    z, y, x = v.shape[:3]
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    points = target.index_to_point(np.stack([i, j, k], -1)) + v
    index = (points - geometry.origin) @ np.linalg.inv(turn * geometry.spacing).T
    inside = np.all((index >= 0) & (index <= np.array(geometry.size) - 1), axis=-1)
    residual = np.linalg.norm(v + there, axis=-1)[inside]
    assert inversion.points == v[..., 0].size
    assert abs(inversion.outside - int((~inside).sum())) <= 2  # points on u's very border
    assert 0 < inside.sum() < inside.size  # the grids overlap in part: both kinds are met
    assert inversion.max_mm <= 0.01 and inversion.mean_mm <= 1e-4
    assert residual.max() == pytest.approx(inversion.max_mm, abs=1e-5)
    assert residual.mean() == pytest.approx(inversion.mean_mm, abs=1e-6)


def test_points_sent_beyond_the_capped_padding_converge_with_the_rest():
    """A thin grid (48x48x10, 1 mm) and a field pushing 5 mm along z beside its smooth
    swirls: the padding's margin is capped at 3 slices, so some points land beyond it, where
    SimpleITK's Warp samples zero. They must take u's nearest border vector (ITK's
    nearest-neighbour extrapolation), not swing between 0 and -u: found by review, the
    residual went 7.5, 6.8, 7.5 mm... to the iteration limit. The oracle is ITK's Resample of
    u through the returned field (its nearest-neighbour extrapolator) and numpy."""
    from dicomreg.core.deformation import invert_push_field
    from dicomreg.core.image import Geometry

    size = (48, 48, 10)
    geometry = Geometry(size, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    x, y, z = size
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    rng = np.random.default_rng(0)
    # smooth random swirls (a Gaussian low-pass by numpy's FFT, sigma about 4 voxels)
    frequencies = np.meshgrid(*(np.fft.fftfreq(n) for n in (z, y, x)), indexing="ij")
    low_pass = np.exp(-2 * (np.pi * 4) ** 2 * sum(f ** 2 for f in frequencies))
    u = np.stack([np.fft.ifftn(np.fft.fftn(rng.standard_normal((z, y, x))) * low_pass).real
                  for _ in range(3)], axis=-1)
    u *= 2.5 / np.abs(u).max()
    u[..., 2] += 5.0
    u = u.astype(np.float32)
    steps: list[float] = []
    v, inversion = invert_push_field(u, geometry, geometry, iterations=100,
                                     progress=lambda n, most, worst: steps.append(worst))
    assert len(steps) <= 20, steps  # it converged; it did not run to the limit
    # ... steadily: with zeros beyond the padding the largest residual went up and down
    # (7.7, 6.7, 7.7 mm) until a lucky step
    assert all(b <= a for a, b in zip(steps[1:-1], steps[2:], strict=True)), steps
    assert inversion.max_mm <= 0.01 and inversion.mean_mm <= 1e-4

    push = sitk.GetImageFromArray(u.astype(np.float64), isVector=True)
    pull = sitk.GetImageFromArray(v.astype(np.float64), isVector=True)
    there = sitk.GetArrayFromImage(sitk.Resample(
        push, pull, sitk.DisplacementFieldTransform(sitk.Image(pull)), sitk.sitkLinear, 0.0,
        sitk.sitkVectorFloat64, useNearestNeighborExtrapolator=True))
    index = np.stack([i, j, k], -1) + v
    inside = np.all((index >= 0) & (index <= np.array(size) - 1), axis=-1)
    residual = np.linalg.norm(v + there, axis=-1)
    assert residual[inside].max() <= 0.011
    # the points outside u's grid hold the inverse of u's border, not zero or -u swinging
    assert np.all(np.abs(v[..., 2][~inside]) > 3.0)


def test_the_inversion_reports_progress_and_can_be_cancelled():
    import threading

    from dicomreg.core.deformation import InversionCancelledError, invert_push_field

    u, geometry = _smooth_push((12, 10, 8))
    seen = []
    invert_push_field(u, geometry, geometry, progress=lambda *step: seen.append(step))
    assert seen and seen[-1][1] == 50 and seen[0][2] > seen[-1][2]
    cancel = threading.Event()

    def stop_after_two(iteration, most, residual):
        if iteration == 2:
            cancel.set()

    with pytest.raises(InversionCancelledError, match="cancelled"):
        invert_push_field(u, geometry, geometry, progress=stop_after_two, cancel=cancel)


@pytest.mark.parametrize(("value", "arguments"), [
    (1e300, ["--direction", "push"]),
    (np.inf, ["--direction", "push"]),
    (np.nan, ["--direction", "push"]),
])
def test_values_numpy_would_warn_about_are_one_line_of_ours(tmp_path, capsys, value,
                                                            arguments):
    """A push field with a component beyond float32 (or not finite) is refused before it is
    cast and iterated; numpy's warnings, made errors here, never arise."""
    import warnings

    case = make_case(tmp_path)
    image = sitk.ReadImage(str(case.field), sitk.sitkVectorFloat64)
    vectors = sitk.GetArrayFromImage(image)
    vectors[1, 1, 1, 0] = value
    damaged = sitk.GetImageFromArray(vectors, isVector=True)
    damaged.CopyInformation(image)
    sitk.WriteImage(damaged, str(tmp_path / "damaged.mha"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["save", str(tmp_path / "damaged.mha"), "--fixed", str(case.fixed),
                     "-o", str(tmp_path / "out.dcm"), "--no-dciodvfy", *arguments]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "the push field's vector at voxel (x=1, y=1, z=1)" in err[0], err
    assert not (tmp_path / "out.dcm").exists()


@pytest.mark.parametrize("matrix", [
    "1e308 0 0 0 0 1e308 0 0 0 0 1e308 0 0 0 0 1",
    "1e200 1e200 0 0 0 1 0 0 0 0 1 0 0 0 0 1",
    "1 0 0 1e308 0 1 0 0 0 0 1 0 0 0 0 1",
])
def test_matrices_whose_products_overflow_are_one_line_of_ours(tmp_path, capsys, matrix):
    import warnings

    case = make_case(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["save", str(case.field), "--fixed", str(case.fixed), "-o",
                     str(tmp_path / "out.dcm"), "--no-dciodvfy", "--set",
                     f"preDeformationMatrix={matrix}"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "an entry is not a finite number of at most 1e+100" in err[0], err
