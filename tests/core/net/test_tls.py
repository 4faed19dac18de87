"""DICOM TLS and https against a real Orthanc (tests/orthanc_tls.py): echo, send, find,
fetch (C-GET, C-MOVE to our TLS storage SCP, WADO-RS) and save-and-send succeed with the
right certificates; each wrong one is one line naming it, exit status 1. Results are
checked with pydicom and numpy and Orthanc's REST API."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import orthanc_server as helpers
import pydicom
import pytest
from conftest import SAMPLE
from orthanc_server import net_environment_fixture, orthanc_fixture  # noqa: F401
from orthanc_tls import tls_orthanc_fixture  # noqa: F401

from dicomreg.core.cli.main import main

pytestmark = pytest.mark.usefixtures("net_environment")


def _ours(server, ca: str = "ca.crt", cert: str | None = "client") -> list[str]:
    c = server.certificates
    options = ["--tls-ca", c[ca]]
    return options + (["--tls-cert", c[f"{cert}.crt"], "--tls-key", c[f"{cert}.key"]]
                      if cert else [])


def _web(server, **kwargs) -> list[str]:
    return [server.dicomweb_https, "--user", helpers.USER, *_ours(server, **kwargs)]


def _dimse(server, **kwargs) -> list[str]:
    return [server.dimse, *_ours(server, **kwargs)]


@pytest.fixture(scope="module")
def tls_stored(tls_orthanc):
    """The sample series sent over TLS: fixed by C-STORE, moving by STOW-RS over https."""
    fixed = sorted(str(p) for p in (SAMPLE / "fixed").glob("*.dcm"))
    moving = sorted(str(p) for p in (SAMPLE / "moving").glob("*.dcm"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DICOMREG_PASSWORD", helpers.PASSWORD)
        assert main(["send", *fixed, "--to", *_dimse(tls_orthanc)]) == 0
        assert main(["send", *moving, "--to", *_web(tls_orthanc)]) == 0
    return tls_orthanc


def test_echo_over_dicom_tls_and_https(tls_orthanc, capsys):
    assert main(["echo", *_dimse(tls_orthanc)]) == 0
    assert main(["echo", *_web(tls_orthanc)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{tls_orthanc.dimse}: answered", f"{tls_orthanc.dicomweb_https}: answered"]


@pytest.mark.parametrize("web", [False, True])
def test_find_over_tls(tls_stored, capsys, web):
    peer = _web(tls_stored) if web else _dimse(tls_stored)
    assert main(["find", *peer, "--modality", "CT"]) == 0
    out = capsys.readouterr().out
    assert out.count("12 instance(s)") == 2
    for folder in ("fixed", "moving"):
        assert f"series {helpers.series_uids(SAMPLE / folder)[1]}" in out


@pytest.mark.parametrize("how", ["c-get", "c-move", "wado-rs"])
def test_fetch_over_tls_gives_back_every_instance(tls_stored, tmp_path, capsys, how):
    study, series = helpers.series_uids(SAMPLE / "fixed")
    peer = {"c-get": _dimse(tls_stored),
            # Orthanc stores to our SCP over TLS; our SCP shows it the client certificate
            "c-move": [*_dimse(tls_stored), "--move-to", "DICOMREG",
                       "--listen", f"{helpers.LOOPBACK}:{tls_stored.move_port}"],
            "wado-rs": _web(tls_stored)}[how]
    out = tmp_path / "fetched"
    assert main(["fetch", *peer, "--study", study, "--series", series, "-o", str(out)]) == 0
    assert "fetched 12 instance(s) of 1 series" in capsys.readouterr().out
    original, fetched = helpers.pixels_by_uid(SAMPLE / "fixed"), helpers.pixels_by_uid(out)
    assert sorted(original) == sorted(fetched)
    for uid, pixels in original.items():
        np.testing.assert_array_equal(fetched[uid], pixels)


@pytest.mark.parametrize("web", [False, True])
def test_save_from_and_send_to_a_tls_peer(tls_stored, tmp_path, capsys, web):
    fixed_study, fixed_series = helpers.series_uids(SAMPLE / "fixed")
    out = tmp_path / "reg.dcm"
    target = _web(tls_stored) if web else _dimse(tls_stored)
    assert main(["save", str(SAMPLE / "field.mha"), "-o", str(out), "--fixed",
                 f"{tls_stored.dimse}/{fixed_study}/{fixed_series}",
                 "--moving", "{}/studies/{}/series/{}".format(
                     tls_stored.dicomweb_https, *helpers.series_uids(SAMPLE / "moving")),
                 "--send-to", *target, "--user", helpers.USER]) == 0
    assert "stored by" in capsys.readouterr().out
    uid = pydicom.dcmread(out, stop_before_pixels=True).SOPInstanceUID
    stored = tls_stored.get(f"/instances/{tls_stored.find_instance(uid)}/file")
    assert pydicom.dcmread(BytesIO(stored)).StudyInstanceUID == fixed_study


@pytest.mark.parametrize(("case", "expected"), [
    ("plain to the TLS port", "if it is a DICOM TLS port, give --tls"),
    ("wrong CA", "the peer's certificate is not trusted"),
    ("no certificate of ours", "the peer requires our certificate"),
    ("our certificate from another CA", "the peer does not trust our certificate"),
    ("https, wrong CA", "the peer's certificate is not trusted"),
    ("https, no certificate of ours", "TLS"),
    ("http to the https port", "an https service? then write https://"),
    ("missing CA file", "--tls-ca: no such file"),
    ("key without certificate", "--tls-key needs --tls-cert"),
])
def test_tls_failures_are_one_line(tls_orthanc, capsys, case, expected):
    c, server = tls_orthanc.certificates, tls_orthanc
    args = {
        "plain to the TLS port": [server.dimse],
        "wrong CA": _dimse(server, ca="other_ca.crt"),
        "no certificate of ours": _dimse(server, cert=None),
        "our certificate from another CA": _dimse(server, cert="stranger"),
        "https, wrong CA": _web(server, ca="other_ca.crt"),
        "https, no certificate of ours": _web(server, cert=None),
        "http to the https port": [server.dicomweb_https.replace("https:", "http:"),
                                   "--user", helpers.USER],
        "missing CA file": [server.dimse, "--tls-ca", str(c.folder / "absent.crt")],
        "key without certificate": [server.dimse, "--tls-key", c["client.key"]],
    }[case]
    assert main(["echo", *args, "--timeout", "10"]) == 1
    line = helpers.one_error_line(capsys)
    assert expected in line, line
    assert helpers.PASSWORD not in line


def test_tls_to_a_plain_port_is_one_line(orthanc, tls_orthanc, capsys):
    c = tls_orthanc.certificates
    assert main(["echo", orthanc.dimse, "--tls-ca", c["ca.crt"], "--timeout", "10"]) == 1
    line = helpers.one_error_line(capsys)
    assert "TLS" in line and orthanc.dimse in line, line
