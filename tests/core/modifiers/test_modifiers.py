"""Modifier plugins: each operation, chains as JSON, and a plugin that breaks the object."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import ROOT, SAMPLE, SITE_BLOCK_WARNINGS, dciodvfy_counts
from pydicom import dcmread
from pydicom.dataset import Dataset

from dicomreg.core.cli.main import main
from dicomreg.core.modifiers import (
    DicomModifyImageTagsPlugin,
    DicomModifySubTreeSelectorPlugin,
    DicomModifyTagsPlugin,
    ModifierConfigError,
    ModifierError,
    chain_from_data,
    chain_to_data,
    load_chain,
)

CHAIN = ROOT / "example_flows" / "modifiers" / "deidentify_and_site_block.json"


def save(tmp_path, *extra):
    out = tmp_path / "reg.dcm"
    status = main(["save", str(SAMPLE / "field.mha"), "--fixed", str(SAMPLE / "fixed"),
                   "--moving", str(SAMPLE / "moving"), "-o", str(out), *extra])
    return status, out


def test_the_shipped_chain_of_three_plugins(tmp_path):
    status, out = save(tmp_path, "--modifiers", str(CHAIN), "--no-dciodvfy")
    assert status == 0
    # The site's private block is legitimate; dciodvfy cannot look up its two attributes.
    assert dciodvfy_counts(out) == ([], SITE_BLOCK_WARNINGS)
    ds = dcmread(out)
    assert ds.PatientID == "ANON-0001" and str(ds.PatientName) == "ANONYMOUS^PATIENT"
    assert ds.PatientBirthDate == "" and "StudyDescription" not in ds
    assert ds.PatientIdentityRemoved == "YES" and ds.DeidentificationMethod
    block = ds.private_block(0x0011, "EXAMPLE CLINIC RT")
    assert block[0x01].value == "registration reviewed" and block[0x02].value == "PROTOCOL 7"
    item = ds.DeformableRegistrationSequence[0]
    code = item.RegistrationTypeCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("125024", "DCM")
    assert item.FrameOfReferenceTransformationComment == "deformable, reviewed by the physicist"


def test_the_readme_shows_the_shipped_chain():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)```", readme, re.S)
    assert block and json.loads(block.group(1)) == json.loads(CHAIN.read_text())


def test_chains_round_trip_as_plain_data():
    chain = load_chain(CHAIN)
    data = chain_to_data(chain)
    assert chain_to_data(chain_from_data(json.loads(json.dumps(data)))) == data
    first, second = chain[0], chain[1]
    assert second.chain(first.chain()) == [first, second]


def test_a_plugin_that_breaks_the_object_is_named_and_nothing_is_written(tmp_path, capsys):
    breaker = tmp_path / "breaker.json"
    breaker.write_text(json.dumps([
        {"plugin": "DicomModifyTagsPlugin", "name": "harmless",
         "operations": [{"op": "set", "tag": "SeriesDescription", "value": "fine"}]},
        {"plugin": "DicomModifyTagsPlugin", "name": "label remover",
         "operations": [{"op": "remove", "tag": "ContentLabel"}]}]))
    previous = b"\0" * 128 + b"DICM" + b"previous"  # a previous REG, which a save replaces
    (tmp_path / "reg.dcm").write_bytes(previous)
    status, out = save(tmp_path, "--modifiers", str(breaker))
    err = capsys.readouterr().err
    assert status == 1
    assert "after modifier label remover: ContentLabel (0070,0080): Type 1 attribute is " \
           "missing" in err
    assert out.read_bytes() == previous


def test_a_plugin_that_fails_is_named(tmp_path, capsys):
    failing = tmp_path / "failing.json"
    failing.write_text(json.dumps([{"plugin": "DicomModifySubTreeSelectorPlugin",
                                    "name": "selector", "path": "ReferencedSeriesSequence[0]",
                                    "plugins": []}]))
    status, _ = save(tmp_path, "--modifiers", str(failing))
    assert status == 1
    assert "modifier selector: failed: path 'ReferencedSeriesSequence[0]' selects no item" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("data", "message"), [
    ([{"plugin": "Nope"}], "'Nope' is not a modifier plugin"),
    ({"plugin": "DicomModifyTagsPlugin"}, "a JSON list of plugin objects"),
    ([{"plugin": "DicomModifyTagsPlugin", "operations": [{"op": "explode"}]}],
     "operation 1: 'op' must be one of"),
    ([{"plugin": "DicomModifyTagsPlugin", "operations": [{"op": "set", "tag": "NoSuchTag",
                                                          "value": 1}]}],
     "'NoSuchTag' is neither a DICOM keyword nor a tag"),
    ([{"plugin": "DicomModifyTagsPlugin", "operations": [{"op": "remove_optional",
                                                          "tag": "ContentLabel"}]}],
     "ContentLabel \\(0070,0080\\) is Type 1 in this object; remove_optional removes Type 3"),
    ([{"plugin": "DicomModifyTagsPlugin", "operations": [{"op": "replace_optional",
                                                          "tag": "StudyInstanceUID",
                                                          "value": "1.2"}]}],
     "is Type 1 in this object; replace_optional changes Type 2 and 3"),
    ([{"plugin": "DicomModifyTagsPlugin", "operations": [{"op": "set_private",
                                                          "group": "0010", "creator": "X",
                                                          "element": "01", "vr": "LO",
                                                          "value": "x"}]}],
     "private groups are odd"),
    ([{"plugin": "DicomModifyTagsPlugin", "operations": [{"op": "set_binary", "tag": "00091001",
                                                          "vr": "OB", "hex": "zz"}]}],
     "the binary value is not usable"),
    ([{"plugin": "DicomModifySubTreeSelectorPlugin", "path": "Foo"}],
     "step 'Foo' is not KEYWORD\\[index\\]"),
    ([{"plugin": "DicomModifyImageTagsPlugin", "set": {"GridDimensions": [1, 1, 1]}}],
     "GridDimensions is the data itself"),
    ([{"plugin": "DicomModifyImageTagsPlugin", "set": {"PatientID": "x"}}],
     "'PatientID' is not one of"),
    ([{"plugin": "DicomModifyTagsPlugin", "colour": "red"}], "unexpected keyword"),
])
def test_bad_configurations_are_refused_when_made(data, message):
    with pytest.raises(ModifierConfigError, match=message):
        chain_from_data(data)


def test_bad_modifiers_file(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("{not json")
    status, _ = save(tmp_path, "--modifiers", str(tmp_path / "bad.json"))
    assert status == 1 and "is not JSON" in capsys.readouterr().err
    status, _ = save(tmp_path, "--modifiers", str(tmp_path / "missing.json"))
    assert status == 1 and "does not exist" in capsys.readouterr().err


# --- each kind of change of DicomModifyTagsPlugin, on a plain dataset ------------------------

def dataset() -> Dataset:
    ds = Dataset()
    ds.PatientID, ds.StudyDescription = "X", "study"
    block = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
    block.add_new(0x08, "CS", "IMAGE NUM 4")
    other = ds.private_block(0x0029, "OTHER CREATOR", create=True)
    other.add_new(0x01, "LO", "other")
    ds.private_block(0x0031, "THIRD", create=True).add_new(0x01, "LO", "third")
    ds.ReferencedSeriesSequence = [Dataset(), Dataset()]
    return ds


def run(*operations) -> Dataset:
    ds = dataset()
    DicomModifyTagsPlugin(list(operations)).apply(ds)
    return ds


def test_standard_tags():
    ds = run({"op": "set", "tag": "(0010,0020)", "value": "NEW"},
             {"op": "set", "tag": "ImageType", "value": ["DERIVED", "SECONDARY"]},
             {"op": "remove", "tag": "StudyDescription"},
             {"op": "remove", "tag": "AccessionNumber"})  # absent: nothing to do
    assert ds.PatientID == "NEW" and list(ds.ImageType) == ["DERIVED", "SECONDARY"]
    assert "StudyDescription" not in ds


def test_private_removal_by_all_creator_and_group():
    assert not [t for t in run({"op": "remove_private"}).keys() if t.is_private]
    by_creator = run({"op": "remove_private", "creator": "SIEMENS CSA HEADER"})
    assert (0x00291008 not in by_creator and 0x00290010 not in by_creator
            and by_creator.private_block(0x0029, "OTHER CREATOR")[0x01].value == "other")
    by_group = run({"op": "remove_private", "group": "0029"})
    assert not [t for t in by_group.keys() if t.group == 0x0029]
    assert by_group.private_block(0x0031, "THIRD")[0x01].value == "third"


def test_private_tags_with_their_creator():
    ds = run({"op": "set_private", "group": "0029", "creator": "SIEMENS CSA HEADER",
              "element": "08", "vr": "CS", "value": "REPLACED"},
             {"op": "set_private", "group": "0033", "creator": "NEW SITE", "element": "10",
              "vr": "LO", "value": "added"})
    assert ds.private_block(0x0029, "SIEMENS CSA HEADER")[0x08].value == "REPLACED"
    assert ds.private_block(0x0033, "NEW SITE")[0x10].value == "added"


def test_sequences():
    item = {"SeriesInstanceUID": "1.2.3"}
    ds = run({"op": "insert_item", "tag": "ReferencedSeriesSequence", "index": 1,
              "attributes": item},
             {"op": "append_item", "tag": "ReferencedSeriesSequence", "attributes": item})
    assert [i.get("SeriesInstanceUID") for i in ds.ReferencedSeriesSequence] == \
        [None, "1.2.3", None, "1.2.3"]
    assert len(run({"op": "resize_sequence", "tag": "ReferencedSeriesSequence", "items": 5})
               .ReferencedSeriesSequence) == 5
    assert len(run({"op": "resize_sequence", "tag": "ReferencedSeriesSequence", "items": 1})
               .ReferencedSeriesSequence) == 1
    assert run({"op": "empty_sequence", "tag": "ReferencedSeriesSequence"}) \
        .ReferencedSeriesSequence == []
    assert "ReferencedSeriesSequence" not in run({"op": "remove_sequence",
                                                  "tag": "ReferencedSeriesSequence"})
    with pytest.raises(ModifierError, match=r"operation 1 \(insert_item\): index 9 is outside"):
        run({"op": "insert_item", "tag": "ReferencedSeriesSequence", "index": 9})
    with pytest.raises(ModifierError, match="PatientID \\(0010,0020\\) is not a sequence"):
        run({"op": "empty_sequence", "tag": "PatientID"})


def test_type_2_and_3_only():
    ds = run({"op": "remove_optional", "tag": "StudyDescription"},
             {"op": "replace_optional", "tag": "PatientID", "value": ""})
    assert "StudyDescription" not in ds and ds.PatientID == ""


def test_binary_values():
    ds = run({"op": "set_binary", "tag": "00291020", "vr": "OF", "values": [1.5, -2]},
             {"op": "set_binary", "tag": "00291021", "vr": "OW", "values": [1, 65535]},
             {"op": "set_binary", "tag": "00291022", "vr": "OB", "hex": "01 02 ff"})
    assert np.frombuffer(ds[0x00291020].value, "<f4").tolist() == [1.5, -2.0]
    assert np.frombuffer(ds[0x00291021].value, "<u2").tolist() == [1, 65535]
    assert ds[0x00291022].value == b"\x01\x02\xff"


# --- the sub-tree selector and the image tags plugin ------------------------------------------

def test_subtree_selector_runs_pre_first_then_on_each_selected_item():
    ds = Dataset()
    selector = DicomModifySubTreeSelectorPlugin(
        path="ReferencedSeriesSequence[*] > ReferencedInstanceSequence[1]",
        pre=[{"plugin": "DicomModifyTagsPlugin", "operations": [
            {"op": "resize_sequence", "tag": "ReferencedSeriesSequence", "items": 2}]},
             {"plugin": "DicomModifySubTreeSelectorPlugin",
              "path": "ReferencedSeriesSequence[*]",
              "plugins": [{"plugin": "DicomModifyTagsPlugin", "operations": [
                  {"op": "resize_sequence", "tag": "ReferencedInstanceSequence",
                   "items": 3}]}]}],
        plugins=[DicomModifyTagsPlugin([{"op": "set", "tag": "ReferencedSOPInstanceUID",
                                         "value": "1.2.3"}])])
    selector.apply(ds)
    for series in ds.ReferencedSeriesSequence:
        assert [i.get("ReferencedSOPInstanceUID") for i in series.ReferencedInstanceSequence] \
            == [None, "1.2.3", None]


def test_image_tags_by_keyword(tmp_path):
    status, out = save(tmp_path, "--no-dciodvfy")
    ds = dcmread(out)
    DicomModifyImageTagsPlugin(set={"ImagePositionPatient": [1, 2, 3],
                                    "GridResolution": [2.5, 2.5, 3.0],
                                    "FrameOfReferenceTransformationComment": "hello",
                                    "ReferencedFrameNumber": [1]}, reference=0).apply(ds)
    item = ds.DeformableRegistrationSequence[0]
    grid = item.DeformableRegistrationGridSequence[0]
    assert list(grid.ImagePositionPatient) == [1, 2, 3]
    assert list(grid.GridResolution) == [2.5, 2.5, 3.0]
    assert item.FrameOfReferenceTransformationComment == "hello"
    assert item.ReferencedImageSequence[0].ReferencedFrameNumber == 1
    assert "ReferencedFrameNumber" not in item.ReferencedImageSequence[1]
    with pytest.raises(ModifierError, match="one ReferencedSOPInstanceUID for several"):
        DicomModifyImageTagsPlugin(set={"ReferencedSOPInstanceUID": "1.2"}).apply(ds)
