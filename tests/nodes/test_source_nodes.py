"""The source nodes load as the command line does: a composite ITK transform through the
DisplacementField node gives DicomREGSave the matrices ``dicomreg save`` writes."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from conftest import make_case
from pydicom import dcmread

from dicomreg.core.cli.main import main
from dicomreg.nodes.base import set_flow_directory
from dicomreg.nodes.flows import execute, new_session

_SEQUENCES = ("PreDeformationMatrixRegistrationSequence",
              "PostDeformationMatrixRegistrationSequence")


def matrices(path):
    """The pre/post-deformation matrices and their types of a REG, read with pydicom."""
    item = dcmread(path).DeformableRegistrationSequence[0]
    out = []
    for keyword in _SEQUENCES:
        matrix = item[keyword][0]
        out.append((np.asarray(matrix.FrameOfReferenceTransformationMatrix, float).reshape(4, 4),
                    matrix.FrameOfReferenceTransformationMatrixType))
    return out


def itk_matrix(transform) -> np.ndarray:
    """A linear SimpleITK transform as a 4x4 matrix, from its own parameters."""
    matrix = np.eye(4)
    matrix[:3, :3] = np.asarray(transform.GetMatrix()).reshape(3, 3)
    center = np.asarray(transform.GetCenter())
    matrix[:3, 3] = np.asarray(transform.GetTranslation()) + center - matrix[:3, :3] @ center
    return matrix


def run_flow_with(case, transform_file, out):
    """DicomImport (fixed) -> DisplacementField -> DicomREGSave <- DicomImport (moving)."""
    session = new_session()
    types = {t.title: t for t in session.nodes}
    flow = session.create_flow("composite")
    fixed, moving = (flow.create_node(types["DicomImport"]) for _ in range(2))
    fixed.settings["directory"], moving.settings["directory"] = str(case.fixed), str(case.moving)
    field = flow.create_node(types["DisplacementField"])
    field.settings["fileName"] = str(transform_file)
    save = flow.create_node(types["DicomREGSave"])
    save.module.set("fileName", str(out))
    flow.connect_nodes(fixed.outputs[1], field.inputs[0])
    flow.connect_nodes(field.outputs[0], save.inputs[0])
    flow.connect_nodes(moving.outputs[1], save.inputs[1])
    return execute([flow])


def test_a_composite_transform_gives_the_node_the_matrices_of_dicomreg_save(tmp_path):
    case = make_case(tmp_path, size=(12, 10, 6))
    set_flow_directory(tmp_path)
    rigid = sitk.Euler3DTransform((1.0, 2.0, 3.0), 0.1, -0.2, 0.3, (5.0, -3.0, 2.0))
    affine = sitk.AffineTransform((1.1, 0.2, 0, 0, 0.9, 0, 0.1, 0, 1), (1, 2, 3))
    field = sitk.DisplacementFieldTransform(
        sitk.ReadImage(str(case.field), sitk.sitkVectorFloat64))
    # ITK applies the last added first: the rigid part, then the field, then the affine one.
    sitk.WriteTransform(sitk.CompositeTransform([affine, field, rigid]), str(tmp_path / "c.h5"))

    assert main(["save", str(tmp_path / "c.h5"), "--fixed", str(case.fixed), "--moving",
                 str(case.moving), "-o", str(tmp_path / "cli.dcm"), "--no-dciodvfy"]) == 0
    written, errors, _ = run_flow_with(case, tmp_path / "c.h5", tmp_path / "node.dcm")
    assert errors == [] and written == [str(tmp_path / "node.dcm")]

    (pre, pre_type), (post, post_type) = matrices(tmp_path / "node.dcm")
    assert np.allclose(pre, itk_matrix(rigid), atol=1e-6) and pre_type == "RIGID"
    assert np.allclose(post, itk_matrix(affine), atol=1e-6) and post_type == "AFFINE"
    for (node_matrix, node_type), (cli_matrix, cli_type) in zip(
            matrices(tmp_path / "node.dcm"), matrices(tmp_path / "cli.dcm"), strict=True):
        assert np.array_equal(node_matrix, cli_matrix) and node_type == cli_type


def test_dicom_import_names_the_non_regular_files_it_skipped(tmp_path):
    import os
    import shutil

    case = make_case(tmp_path / "case")
    fixed = tmp_path / "fixed"
    shutil.copytree(case.fixed, fixed)
    os.mkfifo(fixed / "pipe.dcm")
    set_flow_directory(tmp_path)
    session = new_session()
    node = session.create_flow("f").create_node(
        {t.title: t for t in session.nodes}["DicomImport"])
    node.settings["directory"] = str(fixed)
    node.update()
    assert not node.error
    assert "1 volume(s)" in node.status and "skipped 1 name(s)" in node.status \
        and "pipe.dcm" in node.status


def test_displacement_field_node_has_its_own_field_size_limit(tmp_path):
    """maxFieldSize is the node's --max-field-size: a field over it is the node's one-line
    error naming both sizes; an empty setting is the default; a bad one names the setting."""
    case = make_case(tmp_path / "case")
    set_flow_directory(tmp_path)
    session = new_session()
    node = session.create_flow("f").create_node(
        {t.title: t for t in session.nodes}["DisplacementField"])
    node.settings["fileName"] = str(case.field)
    node.settings["maxFieldSize"] = "100B"
    node.update()
    assert "more than the limit of 100 bytes" in node.error and "2304 bytes" in node.error
    node.settings["maxFieldSize"] = ""
    node.update()
    assert not node.error and node.image is not None
    node.settings["maxFieldSize"] = "big"
    node.update()
    assert "maxFieldSize 'big' is not a size" in node.error
