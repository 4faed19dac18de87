"""Network nodes, each over one call of the core's net folder:

- **PacsQuery**: the series on a peer matching its keys (C-FIND or QIDO-RS);
- **PacsRetrieve**: one series of a peer (``AET@HOST:PORT/STUDY_UID/SERIES_UID`` or a
  DICOMweb series URL), fetched into the cache, as a volume list and its volume (as
  DicomImport gives them);
- **DicomSend**: the file DicomREGSave wrote (its ``fileName`` output), sent to a peer
  (C-STORE or STOW-RS).

Passwords come from ``DICOMREG_PASSWORD`` and tokens from ``DICOMREG_TOKEN``, never from a
setting, so that no flow file holds one.
"""

from __future__ import annotations

from ryven.node_env import Data, NodeInputType, NodeOutputType

from dicomreg.core.dicom import scan_volumes
from dicomreg.core.errors import DicomRegError
from dicomreg.core.net import (
    NetOptions,
    fetched_series,
    find_on_peer,
    send_files,
    series_table,
)

from .base import DicomNode
from .source_nodes import VolumeListSource

__all__ = ["DicomSendNode", "PacsQueryNode", "PacsRetrieveNode"]

# TLS as --tls-ca, --tls-cert and --tls-key (which turn it on): paths relative to the flow;
# a key is a path in a setting, never its content
_CONNECTION = {"aet": "DICOMREG", "timeout": 30.0, "user": "", "tls_ca": "", "tls_cert": "",
               "tls_key": ""}


class _NetNode(DicomNode):
    def options(self) -> NetOptions:
        return NetOptions(calling_aet=self.settings["aet"],
                          timeout=float(self.settings["timeout"]),
                          user=self.settings["user"] or None,
                          tls_ca=self._path("tls_ca"), tls_cert=self._path("tls_cert"),
                          tls_key=self._path("tls_key"))

    def _path(self, name: str) -> str | None:
        return str(self.resolve(self.settings[name])) if self.settings[name] else None

    def required(self, name: str) -> str:
        if not self.settings[name]:
            raise DicomRegError(f"no {name} is set")
        return self.settings[name]


class PacsQueryNode(_NetNode):
    """The series on a peer matching patient, study and modality."""

    title = "PacsQuery"
    init_outputs = [NodeOutputType("series"), NodeOutputType("status")]
    status_output = 1
    defaults = {"peer": "", "patient": "", "study": "", "modality": "", **_CONNECTION}

    def update_event(self, inp: int = -1) -> None:
        def query() -> None:
            found = find_on_peer(self.required("peer"), self.options(),
                                 patient=self.settings["patient"],
                                 study=self.settings["study"],
                                 modality=self.settings["modality"])
            self.set_output_val(0, Data(found))
            self.report(f"{len(found)} series" + (f"\n{series_table(found)}" if found else ""))

        self.guarded(query)


class PacsRetrieveNode(_NetNode, VolumeListSource):
    """One series of a peer as a volume list and its volume."""

    title = "PacsRetrieve"
    defaults = {"series": "", "volumeIndex": 0, **_CONNECTION}

    def update_event(self, inp: int = -1) -> None:
        def retrieve() -> None:
            folder = fetched_series(self.required("series"), self.options())
            volume = self.offer(scan_volumes(folder))
            self.report(f"{volume.describe()}, from {folder}")

        self.guarded(retrieve)


class DicomSendNode(_NetNode):
    """The file at its input (DicomREGSave's fileName) sent to a peer."""

    title = "DicomSend"
    init_inputs = [NodeInputType("fileName")]
    init_outputs = [NodeOutputType("status")]
    status_output = 0
    defaults = {"to": "", **_CONNECTION}

    def update_event(self, inp: int = -1) -> None:
        def send() -> None:
            path = self.payload(0)
            if not path:
                raise DicomRegError("no file at fileName: connect DicomREGSave's fileName")
            outcome = send_files(self.required("to"), [str(path)], self.options())[0]
            if not outcome.stored:
                raise DicomRegError(f"{self.settings['to']} refused {path} (status "
                                    f"{outcome.status}: {outcome.reason})")
            self.report(f"{path} stored by {self.settings['to']} (status {outcome.status})")

        self.guarded(send)
