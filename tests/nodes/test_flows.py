"""Flows headless: the example flows, --set, errors that surface, harmful flows refused."""

from __future__ import annotations

import base64
import json
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SITE_BLOCK_WARNINGS, dciodvfy_counts
from pydicom import dcmread

from dicomreg.core.cli.main import main
from dicomreg.core.errors import DicomRegError
from dicomreg.nodes.flows import FlowError, check_flow, load_flow

EXAMPLES = ROOT / "example_flows"
FLOWS = ("reg_from_field.json", "reg_with_modifiers.json", "load_and_dump.json",
         "register_and_save.json")


@pytest.fixture
def examples(tmp_path):
    """The example flows and their data, copied: what they write goes to the copy."""
    for name in FLOWS:
        shutil.copy(EXAMPLES / name, tmp_path / name)
    shutil.copytree(EXAMPLES / "data", tmp_path / "data")
    (tmp_path / "out").mkdir()
    return tmp_path


@pytest.mark.parametrize("name", FLOWS)
def test_each_example_flow_runs_headless(examples, name, capsys):
    assert main(["run", str(examples / name)]) == 0
    out = capsys.readouterr().out
    # reg_with_modifiers.json adds a private block: dciodvfy cannot look up its attributes,
    # and the verdict printed says so.
    private = name == "reg_with_modifiers.json"
    for line in out.splitlines():
        if line.startswith("wrote "):
            assert dciodvfy_counts(line[6:]) == ([], SITE_BLOCK_WARNINGS if private else [])
    if name != "load_and_dump.json":
        assert ("dciodvfy: 0 error(s), 2 warning(s) (2 about private attributes, which "
                "dciodvfy cannot look up)" if private else "dciodvfy: 0 error(s), 0 warning(s)") \
            in out
    if name == "load_and_dump.json":
        assert "(0070,0080) CS Content Label                            SAMPLE_DIR  [Type 1" in out
    else:
        assert f"wrote {examples / 'out' / name.replace('.json', '.dcm')}" in out


def test_the_modifier_chain_reaches_the_file(examples):
    assert main(["run", str(examples / "reg_with_modifiers.json")]) == 0
    ds = dcmread(examples / "out" / "reg_with_modifiers.dcm")
    assert ds.PatientID == "ANON-0001"
    assert ds.private_block(0x0011, "EXAMPLE CLINIC RT")[0x01].value == "registration reviewed"
    assert ds.DeformableRegistrationSequence[0].RegistrationTypeCodeSequence[0].CodeValue == \
        "125024"


def test_set_fields_and_settings(examples, capsys):
    assert main(["run", str(examples / "reg_from_field.json"), "--no-dciodvfy",
                 "--set", "DicomREGSave.contentLabel=FROM_SET",
                 "--set", "DicomREGSave.fileName=out/other.dcm"]) == 0
    assert dcmread(examples / "out" / "other.dcm").ContentLabel == "FROM_SET"
    for setting, message in [("DicomREGSave.contentLabel=lower", "is not a code string"),
                             ("Nope.x=1", "the flow has no node 'Nope'"),
                             ("DicomImport#3.directory=x", "the flow has no node"),
                             ("DicomImport.colour=red", "has no setting 'colour'"),
                             ("contentLabel=X", "expected NODE.FIELD=VALUE")]:
        assert main(["run", str(examples / "reg_from_field.json"), "--set", setting]) == 1
        assert message in capsys.readouterr().err


def test_a_node_error_surfaces_and_nothing_is_written(examples, capsys):
    assert main(["run", str(examples / "reg_from_field.json"), "--set",
                 "DisplacementField.fileName=data/missing.mha"]) == 1
    err = capsys.readouterr().err
    assert "DisplacementField: field file" in err and "missing.mha' does not exist" in err
    assert not (examples / "out" / "reg_from_field.dcm").exists()


def test_hand_written_values_survive_the_inheritance_of_a_run(examples):
    project = json.loads((examples / "reg_from_field.json").read_text())
    node = next(n for n in project["flows"]["reg_from_field"]["nodes"]
                if n["identifier"].endswith("DicomREGSaveNode"))
    state = pickle.loads(base64.b64decode(node["state data"]))
    state["overrides"] = {"patientsName": "Hand^Written"}
    state["fields"]["inheritanceInput"] = "ImageConnector"  # a deprecated name, accepted
    node["state data"] = base64.b64encode(pickle.dumps(state)).decode()
    (examples / "edited.json").write_text(json.dumps(project))
    assert main(["run", str(examples / "edited.json"), "--no-dciodvfy"]) == 0
    assert str(dcmread(examples / "out" / "reg_from_field.dcm").PatientName) == "Hand^Written"


class Harmful:
    """Unpickling this would touch a marker file: a stand-in for any code."""

    marker: Path

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("key", ["state data", "serialized"])
def test_a_harmful_pickle_is_refused_and_nothing_runs(examples, capsys, key):
    marker = examples / "ran"
    harmful = Harmful()
    harmful.marker = marker
    blob = base64.b64encode(pickle.dumps(harmful)).decode()
    project = json.loads((examples / "reg_from_field.json").read_text())
    node = project["flows"]["reg_from_field"]["nodes"][0]
    if key == "state data":
        node["state data"] = blob
    else:
        node["inputs"] = [{"type": "data", "label": "x", "default": {"serialized": blob}}]
    (examples / "harmful.json").write_text(json.dumps(project))
    assert main(["run", str(examples / "harmful.json")]) == 1
    err = capsys.readouterr().err
    assert "is not plain data: it would import or call code" in err
    assert not marker.exists()
    with pytest.raises(FlowError):
        load_flow(examples / "harmful.json")  # what `dicomreg editor` checks first
    assert not marker.exists()


def test_foreign_nodes_and_non_flows_are_refused(examples):
    project = json.loads((examples / "reg_from_field.json").read_text())
    project["flows"]["reg_from_field"]["nodes"][0]["identifier"] = "std.EvalNode"
    with pytest.raises(FlowError, match="'std.EvalNode' is not of the dicomreg node package"):
        check_flow(project)
    with pytest.raises(FlowError, match="not a Ryven project"):
        check_flow({"hello": 1})
    (examples / "bad.json").write_text("{not json")
    with pytest.raises(FlowError, match="is not a Ryven project \\(JSON\\)"):
        load_flow(examples / "bad.json")


def test_example_flows_are_portable_and_small():
    for name in FLOWS:
        text = (EXAMPLES / name).read_text()
        project = json.loads(text)
        check_flow(project)  # every pickle is plain data, so reading them here is safe
        states = [pickle.loads(base64.b64decode(n["state data"]))
                  for flow in project["flows"].values() for n in flow["nodes"]]
        everything = text + repr(states)
        assert str(ROOT) not in everything and "/tmp/" not in everything
        assert project["required packages"] == [{"name": "dicomreg_nodes",
                                                 "dir": "dicomreg_nodes"}]
        assert len(text) < 100_000


def test_run_imports_no_qt(examples):
    script = textwrap.dedent(f"""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("qtpy", "PySide6", "PySide2", "PyQt5", "PyQt6",
                                          "ryvencore_qt"):
                    raise ImportError("blocked: " + name)

        sys.meta_path.insert(0, Block())
        from dicomreg.core.cli.main import main
        sys.exit(main(["run", {str(examples / "reg_from_field.json")!r}, "--no-dciodvfy"]))
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert (examples / "out" / "reg_from_field.dcm").exists()


def test_tag_dump_settings_are_parsed_as_the_fields(examples, capsys):
    from dicomreg.core.dicom import DumpOptions
    from dicomreg.nodes.flows import new_session

    session = new_session()
    node = session.create_flow("dump").create_node(
        {t.title: t for t in session.nodes}["TagDump"])
    assert node.settings == DumpOptions().to_values()
    for name, text, typed in [("annotate", " on ", True), ("dumpPrivateTagValues", "1", True),
                              ("numShownBinaryEntries", "3", 3), ("tagDumpSize", "500", 500),
                              ("regExLineFilter", "Patient", "Patient"),
                              ("annotate", "FALSE", False)]:
        node.set_setting(name, text)
        assert node.settings[name] == typed
    for setting, message in [("TagDump.annotate=maybe", "annotate: 'maybe' is not a Bool"),
                             ("TagDump.numShownBinaryEntries=-1", "below the minimum 0")]:
        assert main(["run", str(examples / "load_and_dump.json"), "--set", setting]) == 1
        assert message in capsys.readouterr().err


def test_displacement_field_settings_are_a_field_convention(examples, capsys):
    from dataclasses import asdict

    from dicomreg.core.deformation import FieldConvention
    from dicomreg.nodes.source_nodes import DisplacementFieldNode

    assert DisplacementFieldNode.defaults == {"fileName": "", **asdict(FieldConvention())}
    assert main(["run", str(examples / "reg_from_field.json"), "--set",
                 "DisplacementField.components=nas"]) == 1
    assert "components: 'nas' is not one of lps, ras" in capsys.readouterr().err
    assert not (examples / "out" / "reg_from_field.dcm").exists()


def test_node_paths_follow_the_one_rule(tmp_path, monkeypatch):
    from dicomreg.nodes.base import set_flow_directory
    from dicomreg.nodes.flows import new_session

    monkeypatch.setenv("REGDIR", str(tmp_path / "data"))
    session = new_session()
    node = session.create_flow("paths").create_node(
        {t.title: t for t in session.nodes}["DisplacementField"])
    set_flow_directory(tmp_path / "flow")
    try:
        assert node.resolve("${REGDIR}/f.mha") == tmp_path / "data" / "f.mha"
        assert node.resolve(" f.mha ") == tmp_path / "flow" / "f.mha"
    finally:
        set_flow_directory(None)


def test_an_empty_selected_source_is_an_error_in_one_line(examples, capsys):
    """Inheriting from a File with no file named is refused, not skipped."""
    assert main(["run", str(examples / "reg_from_field.json"), "--no-dciodvfy",
                 "--set", "DicomREGSave.inputSelector=File"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("dicomreg run: error: DicomREGSave: inputSelector: no file to "
                               "inherit from is set in unresolvedFileName")
    assert "the selected source (File) is empty" in lines[0]
    assert "wrote" not in captured.out
    assert not (examples / "out" / "reg_from_field.dcm").exists()


def test_the_register_flow_stores_the_rigid_stage_as_the_pre_matrix(examples):
    assert main(["run", str(examples / "register_and_save.json")]) == 0
    ds = dcmread(examples / "out" / "register_and_save.dcm")
    item = ds.DeformableRegistrationSequence[0]
    pre = np.asarray(item.PreDeformationMatrixRegistrationSequence[0]
                     .FrameOfReferenceTransformationMatrix, float).reshape(4, 4)
    # the sample's moving patient lies shifted by (4, -3, 1.5) mm: the rigid stage finds x, y
    assert np.allclose(pre[:2, 3], [4.0, -3.0], atol=1.0)


def test_the_context_menu_has_one_entry_per_trigger():
    from dicomreg.nodes.regsave_node import TRIGGERS, trigger_menu

    menu = trigger_menu()
    assert sorted(menu.values()) == sorted(TRIGGERS) and len(menu) == len(TRIGGERS)
    assert menu["Create new UID (createStudyInstanceUID)"] == "createStudyInstanceUID"
    assert menu["Create new UID (createSeriesInstanceUID)"] == "createSeriesInstanceUID"


def test_a_missing_selected_image_is_named_empty(examples, capsys):
    assert main(["run", str(examples / "reg_from_field.json"), "--no-dciodvfy",
                 "--set", "DicomREGSave.inputSelector=Base Connector"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "inputBase is not connected, so the selected source (BaseConnector) is empty" in err[0]


def _text_node_type():
    from ryven.node_env import Data, Node, NodeOutputType

    class TextNode(Node):
        """Another node's output: a fixed text."""

        title = "Text"
        init_outputs = [NodeOutputType("text")]
        text = "FROM_PORT"

        def update_event(self, inp=-1):
            self.set_output_val(0, Data(self.text))

    return TextNode


def test_a_field_shown_as_input_saves_reloads_and_applies_its_value(tmp_path):
    from dicomreg.nodes.flows import new_session, project_of

    text_node = _text_node_type()
    session = new_session()
    session.register_node_type(text_node)
    flow = session.create_flow("ports")
    types = {t.title: t for t in session.nodes}
    source, save = flow.create_node(text_node), flow.create_node(types["DicomREGSave"])
    save.show_field_as_input("contentLabel")
    assert save.exposed_fields == ["contentLabel"]
    with pytest.raises(DicomRegError, match="numVolumes is a trigger or an output"):
        save.show_field_as_input("numVolumes")
    flow.connect_nodes(source.outputs[0], save.inputs[4])
    source.update()
    assert save.module.get("contentLabel") == "FROM_PORT" and not save.error
    assert save.overrides["contentLabel"] == "FROM_PORT"  # as --set: set by hand

    project = project_of(session)
    again = new_session()
    again.register_node_type(text_node)
    (reloaded,) = again.load(project)
    source2, save2 = sorted(reloaded.nodes, key=lambda n: n.title != "Text")
    assert save2.exposed_fields == ["contentLabel"]
    assert reloaded.connected_output(save2.inputs[4]) is source2.outputs[0]
    text_node.text = "LOADED"
    source2.update()
    assert save2.module.get("contentLabel") == "LOADED"
    # A value the module refuses is the node's error, named by its port.
    text_node.text = "lower case"
    source2.update()
    assert save2.error.startswith("input contentLabel: contentLabel: 'lower case'")
    assert save2.module.get("contentLabel") == "LOADED"
