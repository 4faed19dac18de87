"""Flows headless: the example flows, --set, errors that surface, harmful flows refused."""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    ROOT,
    SITE_BLOCK_WARNINGS,
    assert_clean_refusal,
    dciodvfy_counts,
    fuzz_examples,
    partials,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydicom import dcmread

from dicomreg.core.cli.main import main
from dicomreg.core.errors import DicomRegError
from dicomreg.nodes.flows import PACKAGE_DIRECTORY, FlowError, check_flow, load_flow

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

    # the file, its convention, and its own field size limit (empty: the default)
    assert DisplacementFieldNode.defaults == {"fileName": "", **asdict(FieldConvention()),
                                              "maxFieldSize": ""}
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


def test_hiding_a_field_input_removes_its_port_and_connection():
    from dicomreg.nodes.flows import new_session

    session = new_session()
    flow = session.create_flow("hide")
    types = {t.title: t for t in session.nodes}
    value, save = flow.create_node(types["Value"]), flow.create_node(types["DicomREGSave"])
    assert "contentLabel" in save.showable_fields and "numVolumes" not in save.showable_fields
    assert not any(f in save.showable_fields for f in ("save", "status", "tagDump"))
    save.show_field_as_input("contentLabel")
    save.show_field_as_input("seriesDescription")
    assert "contentLabel" not in save.showable_fields
    value.set_setting("value", "FROM_VALUE")
    flow.connect_nodes(value.outputs[0], save.inputs[4])
    value.update()
    assert value.status == "value: 'FROM_VALUE'"
    assert save.module.get("contentLabel") == "FROM_VALUE"
    with pytest.raises(DicomRegError, match="studyDescription is not shown as an input"):
        save.hide_field_input("studyDescription")
    save.hide_field_input("contentLabel")
    assert save.exposed_fields == ["seriesDescription"] and len(save.inputs) == 5
    assert flow.connected_output(save.inputs[4]) is None
    assert save.module.get("contentLabel") == "FROM_VALUE"  # the value stays, as set by hand


# --- hostile flows ------------------------------------------------------------------------------

def run_quietly(*args):
    """``dicomreg run`` in this process; its status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["run", *map(str, args), "--no-dciodvfy"])
    return status, out.getvalue(), err.getvalue()


def assert_outcome(folder, flow, flow_bytes, status, out, err):
    """Either a clean one-line refusal that wrote nothing, or valid REGs inside the folder."""
    assert "Traceback" not in err and "Exception" not in err, err
    assert flow.read_bytes() == flow_bytes and partials(folder) == []
    written = [Path(line[6:]) for line in out.splitlines() if line.startswith("wrote ")]
    if status == 0:  # a flow left without a DicomREGSave node writes nothing, and says so
        assert err == "" and (written or "the flow wrote nothing" in out)
        for path in written:
            assert path.resolve().is_relative_to(folder.resolve())
            assert dcmread(path).Modality == "REG"
    else:
        assert_clean_refusal(status, err, "dicomreg run: error: ")
        assert written == [] and list((folder / "out").iterdir()) == []


def state_of(node):
    return pickle.loads(base64.b64decode(node["state data"]))


def with_state(node, state):
    node["state data"] = base64.b64encode(pickle.dumps(state)).decode()


def regsave(project):
    return next(n for n in project["flows"]["reg_from_field"]["nodes"]
                if n["identifier"].endswith("DicomREGSaveNode"))


def _evil_package(folder, name="evil"):
    """A node package whose nodes.py, if ever imported, leaves a marker."""
    package = folder / name
    package.mkdir()
    marker = folder / f"{name}-ran"
    (package / "nodes.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    return package, marker


@pytest.mark.parametrize("entry", [
    lambda d: {"name": "evil", "dir": str(d)},
    lambda d: {"name": "dicomreg_nodes", "dir": str(d)},  # our name, another folder
    lambda d: {"name": "evil"},
    lambda d: {"dir": str(d)},
])
def test_a_flow_requiring_another_package_is_refused_and_nothing_is_imported(examples, entry):
    package, marker = _evil_package(examples)
    project = json.loads((examples / "reg_from_field.json").read_text())
    project["required packages"].append(entry(package))
    flow = examples / "evil.json"
    flow.write_text(json.dumps(project))
    status, out, err = run_quietly(flow)
    assert_outcome(examples, flow, flow.read_bytes(), status, out, err)
    assert status == 1 and not marker.exists()
    with pytest.raises(FlowError):
        load_flow(flow)  # the editor's loader
    assert not marker.exists()


def test_the_editor_refuses_it_and_opens_a_disguised_one_without_importing_it(examples):
    """``dicomreg editor`` (offscreen, its own process): a foreign package is refused in one
    line; a folder named like ours elsewhere is replaced by ours, and never imported."""
    evil, evil_marker = _evil_package(examples)
    disguised, marker = _evil_package(examples / "out", "dicomreg_nodes")
    project = json.loads((examples / "reg_from_field.json").read_text())
    flows = {}
    for name, package in (("evil", evil), ("disguised", disguised)):
        project["required packages"] = [{"name": package.name, "dir": str(package)}]
        flows[name] = examples / f"{name}.json"
        flows[name].write_text(json.dumps(project))
    script = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from qtpy.QtCore import QTimer
        from qtpy.QtWidgets import QApplication
        app = QApplication([])

        def look():
            window = next(w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow")
            flows = window.session_gui.core_session.flows
            print("NODES", len([n for f in flows for n in f.nodes]))
            app.quit()

        QTimer.singleShot(3000, look)
        from dicomreg.core.cli.main import main
        raise SystemExit(main(["editor", sys.argv[1]]))
    """)
    refused = subprocess.run([sys.executable, "-c", script, str(flows["evil"])],
                             capture_output=True, text=True, timeout=120, cwd=examples)
    assert_clean_refusal(refused.returncode, refused.stderr, "node package 'evil'")
    opened = subprocess.run([sys.executable, "-c", script, str(flows["disguised"])],
                            capture_output=True, text=True, timeout=120, cwd=examples)
    assert opened.returncode == 0, opened.stderr[-2000:]
    assert "NODES 4" in opened.stdout
    assert not evil_marker.exists() and not marker.exists()
    assert load_flow(flows["disguised"])["required packages"] == [
        {"name": "dicomreg_nodes", "dir": str(PACKAGE_DIRECTORY)}]


def _flows_of(project):
    return project["flows"]["reg_from_field"]


def _set(path_and_value):
    path, value = path_and_value

    def change(project):
        target = project
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


_DELETE = object()
_NODES = ("flows", "reg_from_field", "nodes")
_CONNECTION = ("flows", "reg_from_field", "connections", 0)

HOSTILE_FLOWS = {
    "a node state that is a list": lambda p: with_state(regsave(p), ["fields"]),
    "a node state that is a string": lambda p: with_state(_flows_of(p)["nodes"][0], "x"),
    "settings of the wrong type": lambda p: with_state(
        _flows_of(p)["nodes"][0], {"settings": {"directory": 5}}),
    "fields that are a list": lambda p: with_state(regsave(p), {"fields": []}),
    "an unknown node identifier": _set((_NODES + (0, "identifier"), "dicomreg_nodes.Nope")),
    "an identifier that is a list": _set((_NODES + (0, "identifier"), ["x"])),
    "no inputs": _set((_NODES + (2, "inputs"), _DELETE)),
    "no GID": _set((_NODES + (1, "GID"), _DELETE)),
    "no nodes": _set((_NODES, _DELETE)),
    "no project GID": _set((("GID",), _DELETE)),
    "no addons": _set((("addons",), _DELETE)),
    "one input too few": lambda p: _flows_of(p)["nodes"][3]["inputs"].pop(),
    "a parent index out of range": _set((_CONNECTION + ("parent node index",), 9)),
    "a negative port index": _set((_CONNECTION + ("output port index",), -1)),
    "an input port out of range": _set((_CONNECTION + ("connected input port index",), 4)),
    "an index that is text": _set((_CONNECTION + ("connected node",), "2")),
    "an index that is true": _set((_CONNECTION + ("connected node",), True)),
    "a connection that is a list": _set((_CONNECTION, [0, 1, 2, 0])),
    "a node feeding itself": _set((_CONNECTION + ("connected node",), 0)),
    "two outputs into one input": lambda p: _flows_of(p)["connections"].append(
        dict(_flows_of(p)["connections"][2], **{"parent node index": 1})),
    "an unknown algorithm mode": _set((("flows", "reg_from_field", "algorithm mode"), "fast")),
    "output data out of range": _set((("flows", "reg_from_field", "output data", 0,
                                       "dependent node outputs"), [7, 0])),
    "a foreign data type": _set((("flows", "reg_from_field", "output data", 0, "data",
                                  "identifier"), "Evil")),
    "a Python 3.2 'scripts' part": _set((("scripts",), [])),
    "a variable in the addon": _set((("addons", "Variables", "custom state"),
                                     {"3": {"x": {"serialized": ""}}})),
    "a window state that is not hex": _set((("geometry",), "zz")),
    "a NUL in a path": lambda p: with_state(_flows_of(p)["nodes"][0],
                                            {"settings": {"directory": "data/\0fixed"}}),
    "a NUL in a name": _set((_NODES + (0, "identifier"), "dicomreg_nodes.\0")),
    "a number of 200 bits": _set((_NODES + (0, "pos x"), 2 ** 200)),
    "a connection nested 300 deep": _set((_CONNECTION, json.loads("[" * 300 + "]" * 300))),
    "a state nested 300 deep": lambda p: with_state(regsave(p), json.loads("[" * 300 + "]"
                                                                           * 300)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FLOWS))
def test_each_hostile_flow_is_refused_in_one_line(examples, name):
    project = json.loads((examples / "reg_from_field.json").read_text())
    HOSTILE_FLOWS[name](project)
    flow = examples / "hostile.json"
    flow.write_text(json.dumps(project))
    status, out, err = run_quietly(flow)
    assert_outcome(examples, flow, flow.read_bytes(), status, out, err)
    assert status == 1 and err.startswith("dicomreg run: error: ")
    with pytest.raises(FlowError):
        load_flow(flow)


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000 + "]" * 100_000, "nests deeper than JSON is read here"),
    ('{"flows": {}, "GID": ' + "7" * 4301 + "}", "holds a number of more than 4300 digits"),
    ('{"flows": {}, "GID": ' + "7" * 4300 + "}", "holds a number of 14284 bits, beyond 64"),
    ('{"flows": {}, "GID": NaN}', "not finite"),
    ('{"flows": {}, "GID": 1e999, "addons": {}}', "holds the number inf"),
    ("\ufeff\x00", "is not a Ryven project (JSON)"),
])
def test_unreadable_json_is_one_line(examples, text, message):
    flow = examples / "hostile.json"
    flow.write_text(text)
    status, out, err = run_quietly(flow)
    assert_outcome(examples, flow, flow.read_bytes(), status, out, err)
    assert message in err


# A value anywhere in a flow, including inside a node's pickled state.
_ODD = st.sampled_from([None, True, False, 0, -1, 1, 3, 2 ** 63, 1.5, "", "x", "..", "/", "\0",
                        "../../escape.dcm", "/tmp/absolute.dcm", "data", "data/field.mha",
                        "dicomreg_nodes.DicomImportNode", "data opt", [], {}, [0, 1]])
_VALUES = st.recursive(_ODD | st.integers() | st.text(max_size=8),
                       lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


class _Pickled(dict):
    """A node's state, unpickled, so that a mutation can reach inside it."""


def _expand(value):
    if isinstance(value, dict):
        return {k: (_Pickled(state=_expand(pickle.loads(base64.b64decode(v))))
                    if k == "state data" else _expand(v)) for k, v in value.items()}
    return [_expand(v) for v in value] if isinstance(value, list) else value


def _collapse(value):
    if isinstance(value, _Pickled):
        return base64.b64encode(pickle.dumps(_collapse(value.get("state")))).decode()
    if isinstance(value, dict):
        return {k: _collapse(v) for k, v in value.items()}
    return [_collapse(v) for v in value] if isinstance(value, list) else value


def _slots(value):
    """Every (container, key) in the tree: where a mutation can land."""
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else ()
    for key, inner in items:
        yield value, key
        yield from _slots(inner)


@st.composite
def mutated_flows(draw):
    def value():  # a copy: sampled values are shared between examples, and get mutated
        return copy.deepcopy(draw(_VALUES))

    project = _expand(json.loads((EXAMPLES / "reg_from_field.json").read_text()))
    for _ in range(draw(st.integers(1, 3))):
        container, key = draw(st.sampled_from(list(_slots(project))))
        action = draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if action == "replace":
            container[key] = value()
        elif action == "delete":
            del container[key]
        elif isinstance(container[key], dict):
            container[key][draw(st.text(max_size=12) | st.sampled_from(
                ["GID", "inputs", "Variables", "fileName", "settings"]))] = value()
        elif isinstance(container[key], list):
            inner = container[key]
            inner.append(copy.deepcopy(inner[0]) if inner and action == "duplicate"
                         else value())
    return _collapse(project)


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(EXAMPLES / "data", folder / "data")
    (folder / "out").mkdir()
    return folder


@settings(max_examples=fuzz_examples(150), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(project=mutated_flows())
def test_mutated_flows_are_refused_cleanly_or_run(fuzz_folder, project):
    """One to three random changes anywhere in a flow (its pickled states included): a clean
    one-line refusal, or a run that writes a valid REG inside the flow's folder."""
    flow = fuzz_folder / "mutated.json"
    flow.write_text(json.dumps(project))
    before = flow.read_bytes()
    try:
        status, out, err = run_quietly(flow)
        event(f"exit {status}")
        assert_outcome(fuzz_folder, flow, before, status, out, err)
    finally:
        for path in (fuzz_folder / "out").iterdir():
            path.unlink()


@pytest.mark.parametrize("file_name", ["/{tmp}/elsewhere/reg.dcm", "../reg.dcm",
                                       "out/../../reg.dcm", "escape/reg.dcm", "~/reg.dcm"])
def test_a_flows_file_name_stays_in_its_folder_unless_the_user_sets_it(examples, file_name):
    """Absolute, climbing out, or through a link out of the folder: refused when the flow
    says so; written when the user gives the same path with --set."""
    outside = examples.parent / f"elsewhere-{examples.name}"
    outside.mkdir()
    (examples / "escape").symlink_to(outside)
    file_name = file_name.replace("/{tmp}/elsewhere", str(outside))
    project = json.loads((examples / "reg_from_field.json").read_text())
    state = state_of(regsave(project))
    state["fields"]["fileName"] = file_name
    with_state(regsave(project), state)
    flow = examples / "escaping.json"
    flow.write_text(json.dumps(project))
    status, out, err = run_quietly(flow)
    assert_outcome(examples, flow, flow.read_bytes(), status, out, err)
    assert_clean_refusal(status, err, "is outside the flow's folder",
                         "--set DicomREGSave.fileName=")
    if file_name.startswith("~"):
        return  # the user's home: not written to by a test
    status, out, err = run_quietly(flow, "--set", f"DicomREGSave.fileName={file_name}")
    assert status == 0, err
    written = Path(out.split("wrote ", 1)[1].split("\n", 1)[0])
    assert dcmread(written).Modality == "REG"
    written.unlink()


def test_the_flow_file_is_never_an_output(examples):
    flow = examples / "reg_from_field.json"
    before = flow.read_bytes()
    for name in (str(flow), "reg_from_field.json", "out/../reg_from_field.json"):
        status, out, err = run_quietly(flow, "--set", f"DicomREGSave.fileName={name}")
        assert_outcome(examples, flow, before, status, out, err)
        assert_clean_refusal(status, err, "is the flow file")


def test_a_flow_is_saved_only_over_a_flow(examples):
    from dicomreg.core.output import OutputPathError
    from dicomreg.nodes.flows import new_session, save_flow

    session = new_session()
    session.load(load_flow(examples / "reg_from_field.json"))
    keys = examples / "authorized_keys"
    keys.write_text("ssh-ed25519 AAAA someone\n")
    with pytest.raises(OutputPathError, match="is not a Ryven project file"):
        save_flow(session, keys)
    assert keys.read_text() == "ssh-ed25519 AAAA someone\n"
    save_flow(session, examples / "load_and_dump.json")  # a flow: replaced
    assert load_flow(examples / "load_and_dump.json")["flows"]


def test_a_number_setting_that_is_no_number_is_one_line(examples, capsys):
    assert main(["run", str(examples / "reg_from_field.json"), "--no-dciodvfy",
                 "--set", "DicomImport.volumeIndex=abc"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert "DicomImport.volumeIndex: 'abc' is not a whole number" in err[0]


def test_a_later_set_is_not_blamed_for_another_nodes_leftover_error(examples, capsys):
    """Setting DicomREGSave.fileName first runs DicomSend downstream, which fails while the
    file does not exist; a later --set of DicomSend must not be reported as that error (it
    was: the run stopped at '--set DicomSend.to=...: <DicomSend's error>')."""
    shutil.copy(EXAMPLES / "pacs_round_trip.json", examples / "pacs_round_trip.json")
    assert main(["run", str(examples / "pacs_round_trip.json"), "--no-dciodvfy",
                 "--set", f"DicomREGSave.fileName={examples / 'out' / 'x.dcm'}",
                 "--set", "DicomSend.to=dimse://NOBODY@127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert "--set DicomSend.to" not in err, err
    assert "PacsRetrieve" in err, err  # the run went on: its sources' errors (no series)
    assert not (examples / "out" / "x.dcm").exists()


def test_a_text_wired_to_a_connector_is_the_nodes_error_naming_it(tmp_path):
    """The editor lets a person wire any output to any input: a Value's text at
    inputModifierList (or at the field's input) is one line on the node naming the
    connector and what it takes, and a save then writes nothing."""
    from dicomreg.nodes.flows import new_session

    session = new_session()
    flow = session.create_flow("wrong")
    types = {t.title: t for t in session.nodes}
    for index, connector in ((3, "inputModifierList"), (0, "input0")):
        value, save = flow.create_node(types["Value"]), flow.create_node(types["DicomREGSave"])
        value.set_setting("value", "abc")
        flow.connect_nodes(value.outputs[0], save.inputs[index])
        value.update()
        assert save.error.startswith(f"{connector}: a str is not"), save.error
        assert "\n" not in save.error and save.status == f"error: {save.error}"
        save.module.set("fileName", str(tmp_path / "x.dcm"))
        assert save.run(tmp_path) is None and not (tmp_path / "x.dcm").exists()
        # A later edit that succeeds clears the node's error line, but not the refusal:
        # the module still refuses to save with the connector refused (review).
        save.set_field("contentLabel", "EDITED")
        assert save.run(tmp_path) is None and not (tmp_path / "x.dcm").exists()
        assert connector in save.error, save.error
        flow.disconnect_nodes(value.outputs[0], save.inputs[index])
        save.update()
        assert not save.error.startswith(connector), save.error  # unwired: the error goes


def test_a_set_of_bad_json_is_one_line(examples, capsys):
    """A list or object setting given on the command line as JSON that is not JSON: one line
    naming the setting (it was a json.JSONDecodeError traceback)."""
    assert main(["run", str(examples / "reg_with_modifiers.json"), "--no-dciodvfy",
                 "--set", "DicomModifyTagsPlugin.operations=[not json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert "DicomModifyTagsPlugin.operations: '[not json' is not JSON" in err[0], err
    assert "expected a JSON list" in err[0]
