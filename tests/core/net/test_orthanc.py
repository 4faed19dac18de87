"""The networking commands against a real Orthanc (see conftest.py), every result checked
with pydicom and numpy, or with Orthanc's own REST API, not with our own code."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import SAMPLE
from orthanc_server import (  # noqa: F401
    LOOPBACK,
    PASSWORD,
    USER,
    free_port,
    net_environment_fixture,
    one_error_line,
    orthanc_fixture,
    pixels_by_uid,
    series_uids,
)

from dicomreg.core.cli.main import main

pytestmark = pytest.mark.usefixtures("net_environment")


@pytest.fixture(scope="module")
def stored(orthanc):
    """The sample CT series, fixed by C-STORE and moving by STOW-RS."""
    fixed = sorted(str(p) for p in (SAMPLE / "fixed").glob("*.dcm"))
    moving = sorted(str(p) for p in (SAMPLE / "moving").glob("*.dcm"))
    assert main(["send", *fixed, "--to", orthanc.dimse]) == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DICOMREG_PASSWORD", PASSWORD)
        assert main(["send", *moving, "--to", orthanc.dicomweb, "--user", USER]) == 0
    return orthanc


def test_echo_both(orthanc, capsys):
    assert main(["echo", orthanc.dimse]) == 0
    assert main(["echo", orthanc.dicomweb, "--user", USER]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{orthanc.dimse}: answered", f"{orthanc.dicomweb}: answered"]


@pytest.mark.parametrize("web", [False, True])
def test_find_lists_both_series(stored, capsys, web):
    peer = [stored.dicomweb, "--user", USER] if web else [stored.dimse]
    assert main(["find", *peer, "--modality", "CT", "--patient", "DICOMREG-SAMPLE-01"]) == 0
    out = capsys.readouterr().out
    for folder in ("fixed", "moving"):
        study, series = series_uids(SAMPLE / folder)
        assert f"series {series}" in out and f"study {study}" in out
    assert out.count("12 instance(s)") == 2


@pytest.mark.parametrize("how", ["c-get", "c-move", "wado-rs"])
def test_fetch_gives_back_every_instance(stored, tmp_path, capsys, how):
    study, series = series_uids(SAMPLE / "fixed")
    extra = {"c-get": [stored.dimse],
             "c-move": [stored.dimse, "--move-to", "DICOMREG",
                        "--listen", f"{LOOPBACK}:{stored.move_port}"],
             "wado-rs": [stored.dicomweb, "--user", USER]}[how]
    out = tmp_path / "fetched"
    assert main(["fetch", *extra, "--study", study, "--series", series, "-o", str(out)]) == 0
    assert "fetched 12 instance(s) of 1 series" in capsys.readouterr().out
    original, fetched = pixels_by_uid(SAMPLE / "fixed"), pixels_by_uid(out)
    assert sorted(original) == sorted(fetched)
    for uid, pixels in original.items():
        np.testing.assert_array_equal(fetched[uid], pixels)
    assert [p.name for p in tmp_path.iterdir()] == ["fetched"]  # no temporary folder left


def _meta_and_data_set(data: bytes) -> tuple[bytes, bytes]:
    """A Part 10 file split after its file meta group (whose length is its first value)."""
    end = 144 + int.from_bytes(data[140:144], "little")
    return data[:end], data[end:]


def _stored_as_written(stored_file: bytes, written: Path, web: bool) -> None:
    """STOW-RS: Orthanc keeps the file as uploaded, byte for byte. C-STORE: the file meta
    group is not part of a DIMSE transfer (PS3.7), so Orthanc writes its own (DCMTK's
    Implementation Class UID and Version Name); the data set after it is ours, byte for
    byte, because we write sequences and items with the explicit lengths DCMTK writes."""
    from io import BytesIO

    ours = written.read_bytes()
    if web:
        assert stored_file == ours
        return
    (their_meta, their_data), (our_meta, our_data) = map(_meta_and_data_set,
                                                         (stored_file, ours))
    assert their_data == our_data
    theirs, mine = (pydicom.dcmread(BytesIO(meta)).file_meta for meta in (their_meta, our_meta))
    differ = {e.keyword for e in mine if theirs.get(e.tag) != e} | \
        {e.keyword for e in theirs if e.tag not in mine}
    assert differ <= {"FileMetaInformationGroupLength", "ImplementationClassUID",
                      "ImplementationVersionName"}, differ
    assert str(theirs.ImplementationVersionName).startswith("OFFIS_DCMTK")


def test_orthanc_keeps_a_rest_upload_byte_for_byte(orthanc, tmp_path):
    """Orthanc's own REST upload (POST /instances) stores the Part 10 bytes as given."""
    import requests

    out = tmp_path / "reg.dcm"
    assert main(["save", str(SAMPLE / "field.mha"), "-o", str(out), "--fixed",
                 str(SAMPLE / "fixed"), "--moving", str(SAMPLE / "moving")]) == 0
    requests.post(orthanc.rest + "/instances", data=out.read_bytes(), auth=(USER, PASSWORD),
                  timeout=30).raise_for_status()
    uid = pydicom.dcmread(out, stop_before_pixels=True).SOPInstanceUID
    assert orthanc.get(f"/instances/{orthanc.find_instance(uid)}/file") == out.read_bytes()


@pytest.mark.parametrize("web", [False, True])
def test_save_from_the_pacs_and_send_back(stored, tmp_path, capsys, web):
    fixed_study, fixed_series = series_uids(SAMPLE / "fixed")
    moving_study, moving_series = series_uids(SAMPLE / "moving")
    target = [stored.dicomweb, "--user", USER] if web else [stored.dimse]
    out = tmp_path / "reg.dcm"
    assert main(["save", str(SAMPLE / "field.mha"), "-o", str(out),
                 "--fixed", f"{stored.dimse}/{fixed_study}/{fixed_series}",
                 "--moving", f"{stored.dicomweb}/studies/{moving_study}/series/{moving_series}",
                 "--set", f"seriesDescription=net {web}",
                 "--send-to", target[0], *target[1:], "--user", USER]) == 0
    assert "stored by" in capsys.readouterr().out
    written = pydicom.dcmread(out)
    assert written.Modality == "REG" and written.StudyInstanceUID == fixed_study
    stored_file = stored.get(f"/instances/{stored.find_instance(written.SOPInstanceUID)}/file")
    _stored_as_written(stored_file, out, web)
    study_id = next(hit for hit in stored.lookup(fixed_study) if hit["Type"] == "Study")["ID"]
    modalities = {s["MainDicomTags"].get("Modality") for s in
                  stored.json(f"/studies/{study_id}/series")}
    assert modalities == {"CT", "REG"}
    # the cache holds the two series fetched, each whole
    cached = sorted(p.name for p in (tmp_path / "cache" / "dicomreg" / "series").iterdir())
    assert cached == sorted([fixed_series, moving_series])


def test_refusals_are_one_line(orthanc, capsys, monkeypatch):
    port = orthanc.dimse.rsplit(":", 1)[1]
    assert main(["echo", f"WRONG@{LOOPBACK}:{port}"]) == 1
    assert "rejected the association" in one_error_line(capsys)
    monkeypatch.setenv("DICOMREG_PASSWORD", "not-the-password")
    assert main(["echo", orthanc.dicomweb, "--user", USER]) == 1
    line = one_error_line(capsys)
    assert "HTTP 401" in line and "not-the-password" not in line
    assert main(["echo", f"NOBODY@{LOOPBACK}:{free_port()}"]) == 1  # a stopped server
    assert "cannot connect" in one_error_line(capsys)


def test_a_peer_that_never_answers_times_out(capsys):
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen()  # connections queue; nothing is ever read or answered
        port = silent.getsockname()[1]
        assert main(["echo", f"SILENT@{LOOPBACK}:{port}", "--timeout", "1"]) == 1
    assert "within 1 s" in one_error_line(capsys)


def test_a_peer_that_refuses_the_reg_class(tmp_path, capsys):
    """A storage SCP accepting CT images only: the REG is refused, named, exit 1."""
    from pynetdicom import AE, evt
    from pynetdicom.sop_class import CTImageStorage

    scp = AE(ae_title="CTONLY")
    scp.add_supported_context(CTImageStorage)
    server = scp.start_server((LOOPBACK, 0), block=False,
                              evt_handlers=[(evt.EVT_C_STORE, lambda event: 0x0000)])
    try:
        port = server.server_address[1]
        ct = str(next((SAMPLE / "fixed").glob("*.dcm")))
        reg = str(SAMPLE / "sample_reg.dcm")
        assert main(["send", ct, reg, "--to", f"CTONLY@{LOOPBACK}:{port}"]) == 1
    finally:
        server.shutdown()
    captured = capsys.readouterr()
    assert "stored by" in captured.out and ct in captured.out
    lines = captured.err.strip().splitlines()
    assert any(reg in line and "REFUSED" in line for line in lines)
    assert lines[-1].startswith("dicomreg: error:") and "refused 1 of 2" in lines[-1]
    assert threading.active_count() >= 1


def test_batch_columns_name_pacs_series_and_send_to(stored, tmp_path):
    from dicomreg.core.regsave.batch import read_manifest, run_case

    fixed = "{}/{}/{}".format(stored.dimse, *series_uids(SAMPLE / "fixed"))
    moving = "{}/{}/{}".format(stored.dimse, *series_uids(SAMPLE / "moving"))
    manifest = tmp_path / "cases.csv"
    manifest.write_text("field,output,fixed,moving,send_to\n"
                        f"{SAMPLE / 'field.mha'},a.dcm,{fixed},{moving},{stored.dimse}\n"
                        f"{SAMPLE / 'field.mha'},b.dcm,{fixed},{moving},"
                        f"NOBODY@{LOOPBACK}:{free_port()}\n")
    sent, refused = (run_case(case, str(tmp_path), dciodvfy=False)
                     for case in read_manifest(manifest))
    assert sent.status == "done", sent.error
    assert stored.find_instance(pydicom.dcmread(tmp_path / "a.dcm").SOPInstanceUID)
    assert refused.status == "failed" and "cannot connect" in refused.error
    assert (tmp_path / "b.dcm").is_file()  # written, then the send failed: the file stays
