"""The network nodes in a flow against a real Orthanc: retrieve fixed and moving from it,
save, send the REG back; Orthanc's REST API says it holds the REG in the fixed study."""

from __future__ import annotations

from pathlib import Path

import pydicom
from conftest import SAMPLE
from orthanc_server import PASSWORD, USER, orthanc_fixture  # noqa: F401
from orthanc_tls import tls_orthanc_fixture  # noqa: F401

from dicomreg.core.cli.main import main
from dicomreg.nodes.base import set_flow_directory
from dicomreg.nodes.flows import execute, new_session


def _series(folder: Path) -> tuple[str, str]:
    ds = pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)


def test_retrieve_save_send_round_trip(orthanc, tmp_path, monkeypatch):
    monkeypatch.setenv("DICOMREG_PASSWORD", PASSWORD)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = sorted(str(p) for p in (SAMPLE / "fixed").glob("*.dcm")) \
        + sorted(str(p) for p in (SAMPLE / "moving").glob("*.dcm"))
    assert main(["send", *files, "--to", orthanc.dimse]) == 0
    set_flow_directory(tmp_path)
    session = new_session()
    types = {t.title: t for t in session.nodes}
    flow = session.create_flow("pacs")
    query = flow.create_node(types["PacsQuery"])
    query.settings.update(peer=orthanc.dicomweb, user=USER, modality="CT")
    fixed, moving = (flow.create_node(types["PacsRetrieve"]) for _ in range(2))
    fixed.settings["series"] = "{}/{}/{}".format(orthanc.dimse, *_series(SAMPLE / "fixed"))
    moving.settings.update(user=USER, series="{}/studies/{}/series/{}".format(
        orthanc.dicomweb, *_series(SAMPLE / "moving")))
    field = flow.create_node(types["DisplacementField"])
    field.settings["fileName"] = str(SAMPLE / "field.mha")
    save = flow.create_node(types["DicomREGSave"])
    save.module.set("fileName", str(tmp_path / "reg.dcm"))
    send = flow.create_node(types["DicomSend"])
    send.settings["to"] = orthanc.dimse
    flow.connect_nodes(fixed.outputs[1], field.inputs[0])
    flow.connect_nodes(field.outputs[0], save.inputs[0])
    flow.connect_nodes(moving.outputs[1], save.inputs[1])
    flow.connect_nodes(save.outputs[0], send.inputs[0])
    written, errors, _ = execute([flow])
    assert errors == [] and written == [str(tmp_path / "reg.dcm")]
    assert query.status.startswith("2 series")
    assert send.status.startswith(f"{tmp_path / 'reg.dcm'} stored by {orthanc.dimse}")
    reg = pydicom.dcmread(tmp_path / "reg.dcm")
    assert reg.StudyInstanceUID == _series(SAMPLE / "fixed")[0]
    assert orthanc.find_instance(reg.SOPInstanceUID)


def test_the_example_flow_runs_headless_against_orthanc(orthanc, tmp_path, monkeypatch):
    from conftest import ROOT

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = sorted(str(p) for p in (SAMPLE / "fixed").glob("*.dcm")) \
        + sorted(str(p) for p in (SAMPLE / "moving").glob("*.dcm"))
    assert main(["send", *files, "--to", orthanc.dimse]) == 0
    out = tmp_path / "round_trip.dcm"
    fixed, moving = ("{}/{}/{}".format(orthanc.dimse, *_series(SAMPLE / f))
                     for f in ("fixed", "moving"))
    assert main(["run", str(ROOT / "example_flows" / "pacs_round_trip.json"),
                 "--set", f"PacsRetrieve#1.series={fixed}",
                 "--set", f"PacsRetrieve#2.series={moving}",
                 "--set", f"DicomSend.to={orthanc.dimse}",
                 "--set", f"DicomREGSave.fileName={out}"]) == 0
    reg = pydicom.dcmread(out)
    assert reg.StudyInstanceUID == _series(SAMPLE / "fixed")[0]
    assert orthanc.find_instance(reg.SOPInstanceUID)


def test_the_example_flow_runs_headless_over_tls(tls_orthanc, tmp_path, monkeypatch):
    """The same flow against an Orthanc speaking DICOM TLS only, its nodes given the
    certificate settings."""
    from conftest import ROOT

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    c = tls_orthanc.certificates
    tls = ["--tls-ca", c["ca.crt"], "--tls-cert", c["client.crt"], "--tls-key", c["client.key"]]
    files = sorted(str(p) for p in (SAMPLE / "fixed").glob("*.dcm")) \
        + sorted(str(p) for p in (SAMPLE / "moving").glob("*.dcm"))
    assert main(["send", *files, "--to", tls_orthanc.dimse, *tls]) == 0
    out = tmp_path / "round_trip.dcm"
    fixed, moving = ("{}/{}/{}".format(tls_orthanc.dimse, *_series(SAMPLE / f))
                     for f in ("fixed", "moving"))
    settings = [f"PacsRetrieve#1.series={fixed}", f"PacsRetrieve#2.series={moving}",
                f"DicomSend.to={tls_orthanc.dimse}"]
    settings += [f"{node}.{name}={c[file]}" for node in ("PacsRetrieve#1", "PacsRetrieve#2",
                                                          "DicomSend")
                 for name, file in (("tls_ca", "ca.crt"), ("tls_cert", "client.crt"),
                                    ("tls_key", "client.key"))]
    settings.append(f"DicomREGSave.fileName={out}")
    assert main(["run", str(ROOT / "example_flows" / "pacs_round_trip.json"),
                 *[arg for setting in settings for arg in ("--set", setting)]]) == 0
    reg = pydicom.dcmread(out)
    assert reg.StudyInstanceUID == _series(SAMPLE / "fixed")[0]
    assert tls_orthanc.find_instance(reg.SOPInstanceUID)
