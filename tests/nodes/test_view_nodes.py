"""The Warp and FusedView nodes, headless: Warp's image is ``dicomreg warp``'s, and what
SimpleITK's own Resample through a DisplacementFieldTransform of the field gives."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import make_case

from dicomreg.core.cli.main import main
from dicomreg.nodes.base import set_flow_directory
from dicomreg.nodes.flows import execute, new_session


def series(folder):
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sorted(str(p) for p in folder.iterdir()))
    return reader.Execute()


def warp_flow(case, source: str, path):
    """DicomImport x2 -> Warp (deformation from RegLoad or DisplacementField) -> FusedView."""
    session = new_session()
    types = {t.title: t for t in session.nodes}
    flow = session.create_flow("warp")
    fixed, moving = (flow.create_node(types["DicomImport"]) for _ in range(2))
    fixed.settings["directory"], moving.settings["directory"] = str(case.fixed), str(case.moving)
    deformation = flow.create_node(types[source])
    deformation.settings["fileName"] = str(path)
    warp, view = flow.create_node(types["Warp"]), flow.create_node(types["FusedView"])
    if source == "DisplacementField":
        flow.connect_nodes(fixed.outputs[1], deformation.inputs[0])
    flow.connect_nodes(fixed.outputs[1], warp.inputs[0])
    flow.connect_nodes(moving.outputs[1], warp.inputs[1])
    flow.connect_nodes(deformation.outputs[0], warp.inputs[2])
    flow.connect_nodes(fixed.outputs[1], view.inputs[0])
    flow.connect_nodes(warp.outputs[0], view.inputs[1])
    _written, errors, _dumps = execute([flow])
    assert not errors, errors
    return warp, view


@pytest.mark.parametrize("source", ["RegLoad", "DisplacementField"])
def test_warp_node_gives_dicomreg_warps_image_and_simpleitks(tmp_path, source):
    case = make_case(tmp_path, size=(14, 12, 8))
    set_flow_directory(tmp_path)
    reg, cli_out = tmp_path / "reg.dcm", tmp_path / "cli.mha"
    assert main(["save", str(case.field), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(reg), "--no-dciodvfy"]) == 0
    assert main(["warp", str(reg), str(case.moving), "-o", str(cli_out),
                 "--reference", str(case.fixed)]) == 0
    warp, view = warp_flow(case, source, reg if source == "RegLoad" else case.field)
    shown = np.asarray(warp.image.voxels)
    assert warp.image.geometry.size == (14, 12, 8) and not warp.error, warp.status
    assert "14x12x8 warped" in warp.status

    cli = sitk.GetArrayFromImage(sitk.ReadImage(str(cli_out)))
    assert np.array_equal(shown, cli)

    # SimpleITK alone: the field file as a DisplacementFieldTransform, the moving series
    # resampled onto the fixed series' grid; -1024 where it leaves the moving image.
    field = sitk.Cast(sitk.ReadImage(str(case.field)), sitk.sitkVectorFloat64)
    fixed, moving = series(case.fixed), sitk.Cast(series(case.moving), sitk.sitkFloat32)
    expected = sitk.GetArrayFromImage(sitk.Resample(
        moving, fixed, sitk.DisplacementFieldTransform(field), sitk.sitkLinear, -1024.0,
        sitk.sitkFloat32))
    assert shown.shape == expected.shape
    assert np.abs(shown - expected).max() < 0.01  # HU: float32 against float64 interpolation
    assert (shown == -1024).sum() == (expected == -1024).sum() > 0

    assert view.fixed.voxels.shape == shown.shape and view.warped is warp.image


def test_warp_without_inputs_says_what_to_connect(tmp_path):
    session = new_session()
    types = {t.title: t for t in session.nodes}
    flow = session.create_flow("empty")
    warp = flow.create_node(types["Warp"])
    view = flow.create_node(types["FusedView"])
    execute([flow])
    assert "connect the moving image and a deformation" in warp.error
    assert "connect the fixed image and Warp's image" in view.error
