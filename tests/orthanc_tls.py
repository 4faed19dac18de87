"""An Orthanc speaking DICOM TLS, and DICOMweb over https, for the TLS tests: a throwaway
CA, server and client certificates made with openssl in the session's temporary folder
(never committed), and a second CA that signed nothing we use (the "wrong CA").

Orthanc 1.10.1 as Debian 12 builds it crashes (SIGSEGV in libcivetweb, a null function
pointer) on the first https request when its own ``SslEnabled`` is on, so https is served
the way Orthanc's manual prefers anyway: by a TLS front end, here stunnel, before Orthanc's
loopback HTTP port. Both ends ask for the client's certificate (mutual TLS).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from orthanc_server import (
    LOOPBACK,
    Orthanc,
    _configuration,
    _executables,
    _process,
    _running,
    free_port,
    wait_for,
)

_LEAF_EXTENSIONS = ("basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1,"
                    "DNS:localhost\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth,clientAuth\nsubjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid\n")


@dataclass(frozen=True)
class Certificates:
    folder: Path

    def __getitem__(self, name: str) -> str:  # certificates["ca.crt"]: its path
        return str(self.folder / name)


def _openssl(*arguments: str) -> None:
    subprocess.run(["openssl", *arguments], check=True, capture_output=True)


def _ca(folder: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
             f"/CN=dicomreg test {name}", "-keyout", str(folder / f"{name}.key"),
             "-out", str(folder / f"{name}.crt"), "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign")


def _leaf(folder: Path, name: str, ca: str) -> None:
    (folder / "leaf.ext").write_text(_LEAF_EXTENSIONS)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout",
             str(folder / f"{name}.key"), "-out", str(folder / f"{name}.csr"))
    _openssl("x509", "-req", "-in", str(folder / f"{name}.csr"), "-CA",
             str(folder / f"{ca}.crt"), "-CAkey", str(folder / f"{ca}.key"),
             "-CAcreateserial", "-days", "2", "-extfile", str(folder / "leaf.ext"),
             "-out", str(folder / f"{name}.crt"))


def make_certificates(folder: Path) -> Certificates:
    """ca.crt signing server.crt and client.crt (each with its .key), other_ca.crt signing
    stranger.crt; every certificate names 127.0.0.1 and localhost."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test certificates")
    folder.mkdir(parents=True, exist_ok=True)
    _ca(folder, "ca")
    _ca(folder, "other_ca")
    for name in ("server", "client"):
        _leaf(folder, name, "ca")
    _leaf(folder, "stranger", "other_ca")
    return Certificates(folder)


@dataclass
class TlsOrthanc(Orthanc):
    https_port: int = 0
    certificates: Certificates | None = None

    @property
    def dicomweb_https(self) -> str:
        return f"https://{LOOPBACK}:{self.https_port}/dicom-web"


def _stunnel_configuration(server: TlsOrthanc) -> str:
    c = server.certificates
    return (f"foreground = yes\npid =\noutput = {server.folder / 'stunnel.out'}\n"
            "[https]\n"
            f"accept = {LOOPBACK}:{server.https_port}\n"
            f"connect = {LOOPBACK}:{server.http_port}\n"
            f"cert = {c['server.crt']}\nkey = {c['server.key']}\nCAfile = {c['ca.crt']}\n"
            "verifyChain = yes\nrequireCert = yes\n")


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    def listening() -> bool:
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return True
        except OSError:
            return False

    wait_for(listening, process, log, "stunnel", 30)


def _tls_configuration(server: TlsOrthanc, plugin: Path) -> dict:
    c = server.certificates
    configuration = _configuration(server, plugin)
    configuration.update(
        DicomTlsEnabled=True, DicomTlsCertificate=c["server.crt"],
        DicomTlsPrivateKey=c["server.key"], DicomTlsTrustedCertificates=c["ca.crt"],
        DicomTlsRemoteCertificateRequired=True,
        # a C-MOVE's C-STOREs go to our storage SCP over TLS as well
        DicomModalities={"dicomreg": {"AET": "DICOMREG", "Host": LOOPBACK,
                                      "Port": server.move_port, "UseDicomTls": True}})
    return configuration


@pytest.fixture(scope="session", name="tls_orthanc")
def tls_orthanc_fixture(tmp_path_factory):
    """Orthanc with DICOM TLS on its DICOM port and https (stunnel) before its DICOMweb."""
    executable, plugin = _executables()
    stunnel = shutil.which("stunnel4") or shutil.which("stunnel")
    if stunnel is None:
        pytest.skip("stunnel is needed for the https tests (apt-get install stunnel4)")
    folder = tmp_path_factory.mktemp("orthanc-tls")
    server = TlsOrthanc(free_port(), free_port(), free_port(), folder, https_port=free_port(),
                        certificates=make_certificates(folder / "certificates"))
    (folder / "stunnel.conf").write_text(_stunnel_configuration(server))
    log = folder / "stunnel.log"
    with _running(server, _tls_configuration(server, plugin), executable), \
            _process([stunnel, str(folder / "stunnel.conf")], log) as tunnel:
        _wait_for_port(server.https_port, tunnel, log)
        yield server
