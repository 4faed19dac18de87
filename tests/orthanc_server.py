"""A real Orthanc (Debian packages orthanc and orthanc-dicomweb) for the networking tests,
started once per session on free loopback ports with its own storage folder, and stopped
after. A test module imports the ``orthanc`` fixture from here (a conftest.py beside the
tests would take the name ``conftest`` that ``from conftest import ...`` means tests/conftest.py
by).

Its configuration: AE title ORTHANC, the DICOMweb plugin, one registered user, remote
access refused (only 127.0.0.1 may talk to it), our calling AE title DICOMREG known as a
modality at the port our C-MOVE storage SCP listens on, and the called AE title checked.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"
USER, PASSWORD = "dicomreg", "s3cret-for-tests"
PLUGIN_DIRS = (Path("/usr/share/orthanc/plugins"), Path("/usr/lib/orthanc"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def dicomweb_plugin() -> Path | None:
    """The DICOMweb plugin's shared library, where the Debian package puts it."""
    for folder in PLUGIN_DIRS:
        found = sorted(folder.glob("libOrthancDicomWeb.so*")) if folder.is_dir() else []
        if found:
            return found[0]
    return None


@dataclass
class Orthanc:
    dicom_port: int
    http_port: int
    move_port: int  # where DICOMREG (us) listens for a C-MOVE's C-STOREs
    folder: Path
    aet: str = "ORTHANC"

    @property
    def dimse(self) -> str:
        return f"{self.aet}@{LOOPBACK}:{self.dicom_port}"

    @property
    def rest(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.rest}/dicom-web"

    def get(self, path: str) -> bytes:
        import requests

        response = requests.get(self.rest + path, auth=(USER, PASSWORD), timeout=30)
        response.raise_for_status()
        return response.content

    def json(self, path: str):
        return json.loads(self.get(path))

    def lookup(self, uid: str) -> list[dict]:
        """What Orthanc's REST API finds by a DICOM UID."""
        import requests

        response = requests.post(self.rest + "/tools/lookup", data=uid,
                                 auth=(USER, PASSWORD), timeout=30)
        response.raise_for_status()
        return response.json()

    def find_instance(self, sop_instance: str) -> str:
        """Orthanc's id of an instance."""
        return next(hit["ID"] for hit in self.lookup(sop_instance) if hit["Type"] == "Instance")


def _configuration(orthanc: Orthanc, plugin: Path) -> dict:
    return {
        "Name": "dicomreg-tests",
        "StorageDirectory": str(orthanc.folder / "storage"),
        "IndexDirectory": str(orthanc.folder / "index"),
        "StorageCompression": False,
        "DicomAet": orthanc.aet,
        "DicomPort": orthanc.dicom_port,
        "DicomCheckCalledAet": True,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "HttpPort": orthanc.http_port,
        "RemoteAccessAllowed": False,  # only the loopback interface is served
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "DicomModalities": {"dicomreg": ["DICOMREG", LOOPBACK, orthanc.move_port]},
        "Plugins": [str(plugin)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "HttpTimeout": 30,
        "DicomScpTimeout": 30,
        "OverwriteInstances": True,
    }


def wait_for(ready, process: subprocess.Popen, log: Path, what: str, seconds: float) -> None:
    """Poll ``ready()`` until it is true; a RuntimeError with the log's tail when ``process``
    (``what``) stops first or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped at start:\n{log.read_text()[-3000:]}")
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {seconds:.0f} s:\n{log.read_text()[-3000:]}")


def _wait_until_up(orthanc: Orthanc, process: subprocess.Popen, log: Path) -> None:
    import requests

    def up() -> bool:
        try:
            if requests.get(orthanc.rest + "/system", auth=(USER, PASSWORD), timeout=2).ok:
                with socket.create_connection((LOOPBACK, orthanc.dicom_port), timeout=2):
                    return True
        except (requests.RequestException, OSError):
            pass
        return False

    wait_for(up, process, log, "Orthanc", 60)


def _executables() -> tuple[str, Path]:
    executable = shutil.which("Orthanc") or shutil.which("Orthanc", path="/usr/sbin")
    plugin = dicomweb_plugin()
    if executable is None or plugin is None:
        pytest.skip("Orthanc and its DICOMweb plugin are needed (apt-get install orthanc "
                    "orthanc-dicomweb)")
    return executable, plugin


@contextmanager
def _process(command: list[str], log: Path) -> Iterator[subprocess.Popen]:
    """A child process, stopped (terminated, killed after 30 s) when the block ends."""
    with open(log, "w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _running(server: Orthanc, configuration: dict, executable: str) -> Iterator[Orthanc]:
    path = server.folder / "orthanc.json"
    path.write_text(json.dumps(configuration, indent=2))
    log = server.folder / "orthanc.log"
    with _process([executable, str(path)], log) as process:
        _wait_until_up(server, process, log)
        yield server


@pytest.fixture(scope="session", name="orthanc")
def orthanc_fixture(tmp_path_factory):
    """A running Orthanc for the session; skipped where Debian's packages are missing."""
    executable, plugin = _executables()
    server = Orthanc(free_port(), free_port(), free_port(), tmp_path_factory.mktemp("orthanc"))
    with _running(server, _configuration(server, plugin), executable):
        yield server


# --- helpers of the tests that talk to it ---------------------------------------------------

def series_uids(folder: Path) -> tuple[str, str]:
    """The Study and Series Instance UIDs of the series in ``folder`` (read by pydicom)."""
    import pydicom

    ds = pydicom.dcmread(next(folder.glob("*.dcm")), stop_before_pixels=True)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)


def pixels_by_uid(folder: Path) -> dict:
    """Each instance's pixel array (pydicom), by SOP Instance UID."""
    import pydicom

    return {str(ds.SOPInstanceUID): ds.pixel_array
            for ds in (pydicom.dcmread(p) for p in sorted(folder.glob("*.dcm")))}


def one_error_line(capsys) -> str:
    """What the command wrote to stderr, asserted to be one line."""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.fixture(name="net_environment")
def net_environment_fixture(monkeypatch, tmp_path):
    """Our password in the environment, no token, the series cache in the test's folder."""
    monkeypatch.setenv("DICOMREG_PASSWORD", PASSWORD)
    monkeypatch.delenv("DICOMREG_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
