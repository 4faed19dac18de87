"""What we write and apply, judged by oracles that are not our code.

The checking side uses pydicom, numpy and SimpleITK only: the grid is decoded from the file
as the standard lays it out, and a registered point p is mapped by PS3.3 C.20.3.1.1 written
out here, ``s = post @ (pre @ p + v(p))`` with v interpolated trilinearly at p itself. Beyond
the grid v is zero, past the half voxel around its outer voxel centres (the convention of
ITK's DisplacementFieldTransform, which dicomreg documents and keeps). dicomreg is only run,
through its command line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import MATRICES, POST, PRE, make_case, matrix, write_field
from pydicom import dcmread

from dicomreg.core.cli.main import main


def rotation(axis, angle: float) -> np.ndarray:
    """Rodrigues' rotation matrix."""
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


OBLIQUE = rotation((1, 2, 3), 0.4)  # no axis along a patient axis


# --- the oracle --------------------------------------------------------------------------------

def decode(path: Path) -> dict:
    """The first item's grid, geometry and matrices, by pydicom and numpy alone."""
    item = dcmread(path).DeformableRegistrationSequence[0]
    grid = item.DeformableRegistrationGridSequence[0]
    x, y, z = (int(n) for n in grid.GridDimensions)
    vectors = np.frombuffer(grid.VectorGridData, "<f4").reshape(z, y, x, 3)
    row, column = np.asarray(grid.ImageOrientationPatient[:3], float), \
        np.asarray(grid.ImageOrientationPatient[3:], float)
    # P(i,j,k) = Image Position + i dx row + j dy column + k dz (row x column)
    world = np.eye(4)
    world[:3, :3] = np.column_stack([row, column, np.cross(row, column)]) \
        * np.asarray(grid.GridResolution, float)
    world[:3, 3] = np.asarray(grid.ImagePositionPatient, float)

    def item_matrix(keyword: str) -> np.ndarray:
        sequence = item.get(keyword)
        return np.eye(4) if not sequence else np.asarray(
            sequence[0].FrameOfReferenceTransformationMatrix, float).reshape(4, 4)

    return {"vectors": vectors, "world": world,
            "pre": item_matrix("PreDeformationMatrixRegistrationSequence"),
            "post": item_matrix("PostDeformationMatrixRegistrationSequence")}


def trilinear(values: np.ndarray, world: np.ndarray, points: np.ndarray) -> np.ndarray:
    """values (Z, Y, X, C) at points (N, 3): trilinear, the border held for half a voxel,
    zero beyond."""
    size = np.array(values.shape[2::-1])
    index = (points - world[:3, 3]) @ np.linalg.inv(world[:3, :3]).T
    inside = np.all((index >= -0.5) & (index < size - 0.5), axis=1)
    base = np.floor(index).astype(int)
    fraction = index - base
    out = np.zeros((len(points), values.shape[-1]))
    for corner in np.ndindex(2, 2, 2):
        i, j, k = np.clip(base + corner, 0, size - 1).T
        weight = np.prod(np.where(corner, fraction, 1 - fraction), axis=1)
        out += weight[:, None] * values[k, j, i]
    out[~inside] = 0.0
    return out


def standard_map(reg: dict, points: np.ndarray) -> np.ndarray:
    """PS3.3 C.20.3.1.1: post @ (pre @ p + v(p)), v taken at the registered point p."""
    pre, post = reg["pre"], reg["post"]
    moved = points @ pre[:3, :3].T + pre[:3, 3] + trilinear(reg["vectors"], reg["world"], points)
    return moved @ post[:3, :3].T + post[:3, 3]


def inside_points(world: np.ndarray, size, count: int, seed: int) -> np.ndarray:
    """Random points inside the hull of a grid's voxel centres."""
    index = np.random.default_rng(seed).uniform(0, 1, (count, 3)) * (np.asarray(size) - 1)
    return index @ world[:3, :3].T + world[:3, 3]


def grid_size(reg: dict) -> tuple[int, int, int]:
    return reg["vectors"].shape[2::-1]


def oblique_case(tmp_path: Path, size=(12, 10, 8)):
    return make_case(tmp_path, size=size, spacing=(1.5, 1.75, 2.5), origin=(12.0, -30.0, 7.5),
                     orientation=tuple(OBLIQUE[:, 0]) + tuple(OBLIQUE[:, 1]))


def save(field, out: Path, *extra: str) -> dict:
    assert main(["save", str(field), "-o", str(out), "--no-dciodvfy", *extra]) == 0
    return decode(out)


# --- the grid, decoded ---------------------------------------------------------------------------

def test_the_grid_decoded_by_pydicom_is_the_field_on_an_oblique_grid(tmp_path):
    case = oblique_case(tmp_path)
    reg = save(case.field, tmp_path / "reg.dcm", "--fixed", str(case.fixed))
    field = sitk.ReadImage(str(case.field))
    expected = sitk.GetArrayFromImage(field)
    assert reg["vectors"].shape == expected.shape
    assert np.array_equal(reg["vectors"].view(np.uint32), expected.view(np.uint32))
    # The standard's geometry of every corner equals the field image's.
    x, y, z = field.GetSize()
    for index in np.ndindex(2, 2, 2):
        corner = np.asarray(index) * [x - 1, y - 1, z - 1]
        point = reg["world"][:3, :3] @ corner + reg["world"][:3, 3]
        assert np.allclose(point, field.TransformIndexToPhysicalPoint(corner.tolist()),
                           rtol=0, atol=1e-6)
    spacing = np.linalg.norm(reg["world"][:3, :3], axis=0)
    assert np.allclose(spacing, field.GetSpacing(), rtol=1e-12)
    assert np.allclose(reg["world"][:3, :3] / spacing,
                       np.reshape(field.GetDirection(), (3, 3)), rtol=0, atol=1e-9)


# --- dicomreg map and warp -----------------------------------------------------------------------

def mapped_by_dicomreg(reg_path: Path, points: np.ndarray, capsys) -> np.ndarray:
    out = []
    for point in points:
        capsys.readouterr()
        assert main(["map", str(reg_path), *(f"{v:.10f}" for v in point)]) == 0
        answer = capsys.readouterr().out.split(" -> ")[1].split(" (")[0]
        out.append([float(v) for v in answer.split()])
    return np.array(out)


def test_map_follows_the_standard_with_pre_and_post_on_an_oblique_grid(tmp_path, capsys):
    case = oblique_case(tmp_path)
    path = tmp_path / "reg.dcm"
    reg = save(case.field, path, "--fixed", str(case.fixed), *MATRICES)
    assert np.allclose(reg["pre"], matrix(PRE)) and np.allclose(reg["post"], matrix(POST))
    world, size = reg["world"], grid_size(reg)
    points = inside_points(world, size, 40, seed=3)
    # ... and around the border: inside the half voxel beyond the outer centres, and far out.
    border = np.array([[-0.4, 3, 2], [size[0] - 0.6, 1, 1], [2, -0.45, size[2] - 0.55],
                       [-3, 2, 2], [4, size[1] + 5, 1], [1, 1, -20]])
    points = np.vstack([points, border @ world[:3, :3].T + world[:3, 3]])
    expected = standard_map(reg, points)
    assert np.abs(mapped_by_dicomreg(path, points, capsys) - expected).max() < 1e-3
    # The pre matrix matters: v looked up at pre @ p instead of p lands elsewhere.
    pre, post = reg["pre"], reg["post"]
    moved = points @ pre[:3, :3].T + pre[:3, 3]
    misread = (moved + trilinear(reg["vectors"], world, moved)) @ post[:3, :3].T + post[:3, 3]
    assert np.abs(misread - expected).max() > 1.0


def phantom_image(low: np.ndarray, high: np.ndarray, spacing: float = 1.0):
    """A smooth image on an axis-aligned grid covering the box [low, high]."""
    size = np.ceil((high - low) / spacing).astype(int) + 1
    k, j, i = np.meshgrid(*(np.arange(n) for n in size[::-1]), indexing="ij")
    points = np.stack([i, j, k], -1) * spacing + low
    centre = (low + high) / 2
    values = 1000 * np.exp(-np.sum(((points - centre) / ((high - low) / 2.5)) ** 2, -1)) \
        + 3 * points[..., 0]
    image = sitk.GetImageFromArray(values.astype(np.float32))
    image.SetOrigin(tuple(low))
    image.SetSpacing((spacing,) * 3)
    return image


def voxel_centres(image) -> np.ndarray:
    x, y, z = image.GetSize()
    k, j, i = np.meshgrid(np.arange(z), np.arange(y), np.arange(x), indexing="ij")
    world = np.eye(4)
    world[:3, :3] = np.reshape(image.GetDirection(), (3, 3)) * np.asarray(image.GetSpacing())
    world[:3, 3] = image.GetOrigin()
    return np.stack([i, j, k], -1).reshape(-1, 3) @ world[:3, :3].T + world[:3, 3]


@pytest.mark.parametrize("onto", ["registration grid", "reference grid"])
def test_warp_follows_the_standard(tmp_path, capsys, onto):
    case = oblique_case(tmp_path)
    path = tmp_path / "reg.dcm"
    reg = save(case.field, path, "--fixed", str(case.fixed), *MATRICES)
    extra = []
    if onto == "reference grid":  # another grid: v is interpolated between the REG's points
        reference = sitk.Image([16, 13, 9], sitk.sitkInt16)
        reference.SetSpacing((1.3, 1.1, 2.0))
        reference.SetOrigin(tuple(reg["world"][:3, 3] + [-2.0, 1.5, 0.7]))
        reference.SetDirection(tuple(rotation((0, 1, 1), 0.3).ravel()))
        sitk.WriteImage(reference, str(tmp_path / "reference.mha"))
        extra = ["--reference", str(tmp_path / "reference.mha")]
    grid = reference if extra else None
    if grid is None:
        grid = sitk.Image(list(grid_size(reg)), sitk.sitkInt16)
        grid.SetSpacing(tuple(np.linalg.norm(reg["world"][:3, :3], axis=0)))
        grid.SetDirection(tuple((reg["world"][:3, :3] / grid.GetSpacing()).ravel()))
        grid.SetOrigin(tuple(reg["world"][:3, 3]))
    sources = standard_map(reg, voxel_centres(grid))
    moving = phantom_image(sources.min(0) - 3, sources.max(0) + 3)
    sitk.WriteImage(moving, str(tmp_path / "moving.mha"))
    capsys.readouterr()
    assert main(["warp", str(path), str(tmp_path / "moving.mha"), "-o",
                 str(tmp_path / "warped.mha"), *extra]) == 0
    assert "(100% of its points map inside the moving image)" in capsys.readouterr().out
    warped = sitk.ReadImage(str(tmp_path / "warped.mha"))
    assert warped.GetSize() == grid.GetSize()
    moving_world = np.eye(4)
    moving_world[:3, :3] = np.diag(moving.GetSpacing())
    moving_world[:3, 3] = moving.GetOrigin()
    expected = trilinear(sitk.GetArrayFromImage(moving)[..., None], moving_world, sources)[:, 0]
    assert np.abs(sitk.GetArrayFromImage(warped).ravel() - expected).max() < 0.05


# --- ITK transform files: the REG maps as ITK's TransformPoint -----------------------------------

def smooth_bspline(around, seed: int):
    """A gentle B-spline over a domain well beyond ``around`` (an image): sampled on a grid,
    it is then trilinear to well under 1e-3 mm, and every point an affine sends it to is
    inside its domain (beyond which ITK's B-spline is zero, a jump no grid can hold)."""
    domain = sitk.Image([int(n) + 80 for n in around.GetSize()], sitk.sitkUInt8)
    domain.SetDirection(around.GetDirection())
    domain.SetSpacing(around.GetSpacing())
    domain.SetOrigin(around.TransformContinuousIndexToPhysicalPoint((-40.0, -40.0, -40.0)))
    transform = sitk.BSplineTransformInitializer(domain, [2, 2, 2])
    parameters = np.random.default_rng(seed).normal(0, 1.5, len(transform.GetParameters()))
    transform.SetParameters(tuple(parameters))
    return transform


def displacement_field(around, tmp_path: Path):
    """A displacement field transform on its own oblique grid, centred on ``around`` and
    wide enough to hold every point an affine below sends ``around``'s grid to (beyond its
    grid a field is zero: a jump, which no sampling can hold)."""
    direction, spacing, size = rotation((3, -1, 2), 0.5), (1.6, 1.4, 1.9), (48, 50, 40)
    centre = np.asarray(around.TransformContinuousIndexToPhysicalPoint(
        [(n - 1) / 2 for n in around.GetSize()]))
    origin = centre - direction @ (np.asarray(spacing) * (np.asarray(size) - 1) / 2)
    sampled = sitk.TransformToDisplacementField(smooth_bspline(around, 11), sitk.sitkVectorFloat64,
                                                size, tuple(origin), spacing,
                                                tuple(direction.ravel()))
    path = write_field(tmp_path / "u.mha", sitk.GetArrayFromImage(sampled), origin=origin,
                       spacing=spacing, direction=direction)
    return sitk.DisplacementFieldTransform(sitk.ReadImage(str(path), sitk.sitkVectorFloat64))


def linear(kind: str):
    if kind == "rigid":
        return sitk.Euler3DTransform((4.0, -3.0, 2.0), 0.2, -0.1, 0.3, (5.0, -3.0, 2.0))
    if kind == "affine":
        skewed = rotation((0, 0, 1), 0.25) @ np.array([[1.1, 0.08, 0], [0, 0.95, 0.04],
                                                       [0.02, 0, 1.05]])
        return sitk.AffineTransform(tuple(skewed.ravel()), (3.0, -2.0, 1.0), (1.0, 2.0, 3.0))
    return sitk.AffineTransform((1, 0.1, 0, 0, 0.95, 0.05, 0, 0, 1.02), (2.0, 1.0, -3.0))


@pytest.mark.parametrize(("deformable", "before", "after"), [
    ("field", None, None),
    ("bspline", None, None),
    ("field", "rigid", "after"),     # the field's vectors kept, its grid carried back
    ("field", "affine", "after"),    # the field sampled at A p on the fixed grid
    ("bspline", "affine", "after"),
])
def test_a_transform_file_maps_as_itk_does(tmp_path, deformable, before, after):
    case = oblique_case(tmp_path, size=(16, 14, 10))
    fixed = sitk.ReadImage(str(case.field))
    part = displacement_field(fixed, tmp_path) if deformable == "field" \
        else smooth_bspline(fixed, 7)
    parts = [linear(after)] if after else []
    parts += [part] + ([linear(before)] if before else [])  # ITK applies the last added first
    transform = sitk.CompositeTransform(parts) if len(parts) > 1 else part
    sitk.WriteTransform(transform, str(tmp_path / "t.h5"))
    reg = save(tmp_path / "t.h5", tmp_path / "reg.dcm", "--fixed", str(case.fixed))
    points = inside_points(reg["world"], grid_size(reg), 200, seed=5)
    itk = np.array([transform.TransformPoint(tuple(p)) for p in points])
    assert np.abs(standard_map(reg, points) - itk).max() < 1e-3
    if before:  # the test tells the two readings apart: u at A p is not u at p
        a = linear(before)
        there = np.array([part.TransformPoint(a.TransformPoint(tuple(p))) for p in points])
        here = np.array([part.TransformPoint(tuple(p)) for p in points])
        moved = np.array([a.TransformPoint(tuple(p)) for p in points])
        assert np.abs((there - moved) - (here - points)).max() > 0.1
