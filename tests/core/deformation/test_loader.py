"""load_deformation: the one loader of field images and ITK transform files."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import make_case

from dicomreg.core.deformation import (
    ConventionError,
    load_deformation,
    read_displacement_field,
    read_transform_file,
)
from dicomreg.core.image import Geometry


def test_a_field_image_has_no_matrices(case):
    loaded = load_deformation(case.field)
    assert not loaded.has_matrices and np.array_equal(loaded.pre_matrix, np.eye(4))
    assert np.array_equal(loaded.image.voxels, case.vectors) and loaded.notes == []


def test_the_convention_as_a_mapping_or_keywords(case):
    mapping = load_deformation(case.field, {"components": "ras"})
    keywords = load_deformation(case.field, components="ras")
    assert np.array_equal(mapping.image.voxels, keywords.image.voxels)
    assert np.allclose(mapping.image.voxels, case.vectors * np.array([-1, -1, 1]))
    assert load_deformation(case.field, {"components": "ras"}, components="lps").notes == []
    with pytest.raises(ConventionError, match="'colour' is not an option; the options are "
                                              "components, units, kind, direction"):
        load_deformation(case.field, {"colour": "red"})
    with pytest.raises(ConventionError, match="units: 'inch' is not one of mm, voxel"):
        load_deformation(case.field, units="inch")


def test_a_cached_field_is_used_and_left_alone(case, monkeypatch):
    cached = read_displacement_field(case.field)
    cached = dataclasses.replace(cached, lps_conversion="its vectors were turned into LPS")

    def not_again(path):
        raise AssertionError("read again")

    monkeypatch.setattr("dicomreg.core.deformation.loader.read_displacement_field", not_again)
    loaded = load_deformation(case.field, field=cached)
    loaded.image.datasets = ["the fixed image's DICOM"]
    assert cached.datasets == [] and loaded.image.voxels is cached.voxels
    assert loaded.notes == ["its vectors were turned into LPS"]
    with pytest.raises(ConventionError, match="leave components at lps"):
        load_deformation(case.field, {"components": "ras"}, field=cached)


def test_a_transform_file_gives_its_matrices(tmp_path):
    case = make_case(tmp_path)
    rigid = sitk.Euler3DTransform((0, 0, 0), 0.1, 0.0, 0.2, (3.0, 0.0, 1.0))
    field = sitk.DisplacementFieldTransform(
        sitk.ReadImage(str(case.field), sitk.sitkVectorFloat64))
    sitk.WriteTransform(sitk.CompositeTransform([field, rigid]), str(tmp_path / "c.tfm"))
    loaded = load_deformation(tmp_path / "c.tfm")
    assert loaded.has_matrices and loaded.pre_matrix_type == "RIGID"
    assert np.allclose(loaded.pre_matrix, read_transform_file(tmp_path / "c.tfm").pre_matrix)
    assert not np.allclose(loaded.pre_matrix, np.eye(4))
    with pytest.raises(ConventionError, match="an ITK transform file is in ITK's convention"):
        load_deformation(tmp_path / "c.tfm", direction="push")


def test_a_field_off_the_fixed_grid_is_warned_of(case):
    far = Geometry(size=(8, 6, 4), spacing=(2.0, 2.0, 3.0), origin=(500.0, 500.0, 500.0))
    assert load_deformation(case.field, reference_geometry=far).notes == [
        "warning: the field's grid does not overlap the fixed image at all; check the "
        "field's origin and the fixed series"]
