"""DIMSE through pynetdicom: C-ECHO, C-FIND, C-GET, C-MOVE and C-STORE as the SCU.

Each failure of the network or of the peer becomes one :class:`NetError` line: a refused
connection, a rejected association (with the peer's reason), no accepted presentation
context, a timeout, a TLS failure, a failed DIMSE status.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dicomreg.core.net.peers import DimsePeer, NetError, NetOptions
from dicomreg.core.net.results import FileIdentity, SeriesInfo, StoreOutcome
from dicomreg.core.net.tls import tls_context, tls_failure

__all__ = ["echo", "find_series", "get_instances", "instance_list", "move_instances",
           "store_files"]

Received = Callable[[str, bytes], None]  # SOP Instance UID, the file's bytes


class _Errors(logging.Handler):
    """pynetdicom's error lines during one association: its only record of the reason an
    association was rejected or aborted."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _ae(options: NetOptions):
    from pynetdicom import AE

    ae = AE(ae_title=options.calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = options.timeout
    ae.connection_timeout = options.timeout
    return ae


def _reach(peer: DimsePeer, options: NetOptions) -> None:
    """A TCP connection first, so that a refused or unreachable port is said as such."""
    try:
        socket.create_connection((peer.host, peer.port), timeout=options.timeout).close()
    except TimeoutError:
        raise NetError(f"{peer}: no connection within {options.timeout:g} s") from None
    except OSError as error:
        raise NetError(f"{peer}: cannot connect ({error.strerror or error})") from None


@contextmanager
def _association(peer: DimsePeer, options: NetOptions, contexts: list,
                 handlers: list | None = None) -> Iterator:
    """An established association with ``peer`` proposing ``contexts`` (pairs of a SOP
    class and its transfer syntaxes, with SCP/SCU role items for C-GET), released after."""
    _reach(peer, options)
    ae = _ae(options)
    roles = []
    for abstract, syntaxes, scp_role in contexts:
        ae.add_requested_context(abstract, syntaxes)
        if scp_role:
            from pynetdicom import build_role

            roles.append(build_role(abstract, scp_role=True))
    tls = (tls_context(options), peer.host) if options.tls else None
    errors = _Errors()
    logger = logging.getLogger("pynetdicom")
    logger.addHandler(errors)
    try:
        assoc = ae.associate(peer.host, peer.port, ae_title=peer.aet, ext_neg=roles or None,
                             tls_args=tls, evt_handlers=handlers or [])
    finally:
        logger.removeHandler(errors)
    if not assoc.is_established:
        raise NetError(_refusal(peer, options, assoc, errors.lines))
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


def _refusal(peer: DimsePeer, options: NetOptions, assoc, lines: list[str]) -> str:
    if assoc.is_rejected:
        reason = next((line[len("Reason: "):] for line in lines if line.startswith("Reason:")),
                      "no reason given")
        return (f"{peer} rejected the association from {options.calling_aet}: {reason} "
                "(check the called AE title, and that the peer knows our calling AE title)")
    if any("presentation contexts" in line for line in lines):
        return f"{peer} accepted none of the proposed presentation contexts"
    tls = next(filter(None, map(tls_failure, lines)), None)
    if tls:
        return f"{peer}: TLS: {tls}"
    if options.tls:
        return f"{peer}: the association over TLS failed ({'; '.join(lines[-1:])})"
    if any("Connection reset" in line for line in lines):
        # A DICOM TLS port (Orthanc's, DCMTK's) drops a plain association request unread.
        return (f"{peer} closed the connection at our association request: if it is a "
                "DICOM TLS port, give --tls (or --tls-ca with the CA that signed its "
                "certificate)")
    return (f"{peer} did not answer the association request within {options.timeout:g} s"
            if any("timeout" in line.lower() or "timed out" in line.lower() for line in lines)
            else f"{peer}: association failed ({'; '.join(lines[-2:]) or 'no answer'})")


def echo(peer: DimsePeer, options: NetOptions) -> None:
    """A C-ECHO; raises :class:`NetError` when it does not succeed."""
    from pynetdicom import DEFAULT_TRANSFER_SYNTAXES
    from pynetdicom.sop_class import Verification

    with _association(peer, options, [(Verification, DEFAULT_TRANSFER_SYNTAXES, False)]) as a:
        status = a.send_c_echo()
        _check_status(peer, "C-ECHO", status)


def _check_status(peer: DimsePeer, what: str, status) -> int:
    if status is None or "Status" not in status:
        raise NetError(f"{peer}: no {what} response within the timeout (association aborted)")
    code = int(status.Status)
    if code not in (0x0000, 0xFF00, 0xFF01) and not 0xB000 <= code <= 0xBFFF:
        comment = str(status.get("ErrorComment", "")) or "no comment"
        raise NetError(f"{peer}: {what} failed with status 0x{code:04X} ({comment})")
    return code


def _find(assoc, peer: DimsePeer, query) -> Iterator:
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as Model

    for status, identifier in assoc.send_c_find(query, Model):
        if _check_status(peer, "C-FIND", status) in (0xFF00, 0xFF01) and identifier:
            yield identifier


def _query(level: str, **keys: str):
    from pydicom import Dataset

    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def _find_contexts() -> list:
    from pynetdicom import DEFAULT_TRANSFER_SYNTAXES
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as Model

    return [(Model, DEFAULT_TRANSFER_SYNTAXES, False)]


def find_series(peer: DimsePeer, options: NetOptions, *, patient: str = "", study: str = "",
                series: str = "", modality: str = "") -> list[SeriesInfo]:
    """The series matching the keys: a STUDY-level C-FIND, then a SERIES-level one in each
    study found (the hierarchical query every SCP supports)."""
    found: list[SeriesInfo] = []
    with _association(peer, options, _find_contexts()) as assoc:
        studies = list(_find(assoc, peer, _query(
            "STUDY", PatientID=patient, StudyInstanceUID=study, PatientName="",
            StudyDescription="")))
        for hit in studies:
            for row in _find(assoc, peer, _query(
                    "SERIES", StudyInstanceUID=hit.StudyInstanceUID,
                    SeriesInstanceUID=series, Modality=modality, SeriesDescription="",
                    NumberOfSeriesRelatedInstances="")):
                count = row.get("NumberOfSeriesRelatedInstances")
                found.append(SeriesInfo(
                    study=str(hit.StudyInstanceUID), series=str(row.SeriesInstanceUID),
                    modality=str(row.get("Modality", "")),
                    description=str(row.get("SeriesDescription", "")),
                    instances=int(count) if count not in (None, "") else None,
                    study_description=str(hit.get("StudyDescription", "")),
                    patient_id=str(hit.get("PatientID", "")),
                    patient_name=str(hit.get("PatientName", ""))))
    return found


def instance_list(peer: DimsePeer, options: NetOptions, study: str,
                  series: str) -> dict[str, str]:
    """Each instance of the series (an IMAGE-level C-FIND): SOP Instance UID -> SOP Class
    UID (empty when the peer does not return it)."""
    with _association(peer, options, _find_contexts()) as assoc:
        return {str(row.SOPInstanceUID): str(row.get("SOPClassUID", "") or "")
                for row in _find(assoc, peer, _query(
                    "IMAGE", StudyInstanceUID=study, SeriesInstanceUID=series,
                    SOPInstanceUID="", SOPClassUID=""))}


def _store_handler(received: Received):
    def on_c_store(event) -> int:
        received(str(event.request.AffectedSOPInstanceUID), event.encoded_dataset())
        return 0x0000

    return on_c_store


def _retrieve_identifier(study: str, series: str):
    return _query("SERIES", StudyInstanceUID=study, SeriesInstanceUID=series)


def get_instances(peer: DimsePeer, options: NetOptions, study: str, series: str,
                  sop_classes: set[str], received: Received) -> None:
    """A SERIES-level C-GET; each instance is handed to ``received`` as it arrives.

    We propose the storage classes the series holds (all of pynetdicom's when the peer's
    C-FIND did not say) with every transfer syntax: the bytes are kept as sent."""
    from pynetdicom import (
        ALL_TRANSFER_SYNTAXES,
        DEFAULT_TRANSFER_SYNTAXES,
        StoragePresentationContexts,
        evt,
    )
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet as Model

    classes = sorted(sop_classes - {""}) or [c.abstract_syntax
                                               for c in StoragePresentationContexts[:120]]
    contexts = [(Model, DEFAULT_TRANSFER_SYNTAXES, False)]
    contexts += [(uid, ALL_TRANSFER_SYNTAXES, True) for uid in classes[:127]]
    handlers = [(evt.EVT_C_STORE, _store_handler(received))]
    with _association(peer, options, contexts, handlers) as assoc:
        for status, _ in assoc.send_c_get(_retrieve_identifier(study, series), Model):
            _check_status(peer, "C-GET", status)


def move_instances(peer: DimsePeer, options: NetOptions, study: str, series: str,
                   destination: str, received: Received) -> None:
    """A SERIES-level C-MOVE to ``destination``, with our storage SCP listening meanwhile
    on the options' address (the peer must know ``destination`` at that address)."""
    from pynetdicom import (
        ALL_TRANSFER_SYNTAXES,
        DEFAULT_TRANSFER_SYNTAXES,
        AllStoragePresentationContexts,
        evt,
    )
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove as Model

    scp = _ae(options)
    scp.ae_title = destination
    for context in AllStoragePresentationContexts:
        scp.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    tls = (tls_context(options, server=True), None) if options.tls else None
    try:
        server = scp.start_server((options.listen_host, options.listen_port), block=False,
                                  ssl_context=tls[0] if tls else None,
                                  evt_handlers=[(evt.EVT_C_STORE, _store_handler(received))])
    except OSError as error:
        raise NetError(f"cannot listen on {options.listen_host}:{options.listen_port} for "
                       f"the C-MOVE's C-STOREs ({error.strerror or error})") from None
    try:
        with _association(peer, options, [(Model, DEFAULT_TRANSFER_SYNTAXES, False)]) as a:
            for status, _ in a.send_c_move(_retrieve_identifier(study, series), destination,
                                           Model):
                _check_status(peer, "C-MOVE", status)
    finally:
        server.shutdown()


def store_files(peer: DimsePeer, options: NetOptions,
                headers: dict[Path, FileIdentity]) -> list[StoreOutcome]:
    """C-STORE each file as it is on disk, proposing its own SOP class and transfer syntax
    (a storage SCU proposing only images would offer no context for a REG)."""
    pairs = sorted({(sop_class, syntax) for sop_class, _, syntax in headers.values()})
    if len(pairs) > 128:
        raise NetError(f"{len(pairs)} SOP class/transfer syntax pairs; one association "
                       "proposes at most 128: send the files in smaller groups")
    outcomes = []
    with _association(peer, options, [(c, [s], False) for c, s in pairs]) as assoc:
        accepted = {(c.abstract_syntax, c.transfer_syntax[0]) for c in assoc.accepted_contexts}
        for path, (sop_class, instance, syntax) in headers.items():
            if (sop_class, syntax) not in accepted:
                outcomes.append(StoreOutcome(path, instance, False, "not proposed",
                                             f"the peer accepts no context for SOP class "
                                             f"{sop_class} in transfer syntax {syntax}"))
                continue
            status = assoc.send_c_store(path)
            outcomes.append(_store_outcome(path, instance, status))
    return outcomes


def _store_outcome(path: Path, instance: str, status) -> StoreOutcome:
    if status is None or "Status" not in status:
        return StoreOutcome(path, instance, False, "no response", "no C-STORE response "
                            "within the timeout")
    code = int(status.Status)
    comment = str(status.get("ErrorComment", "") or "")
    if code == 0x0000 or 0xB000 <= code <= 0xBFFF:
        return StoreOutcome(path, instance, True, f"0x{code:04X}", comment)
    return StoreOutcome(path, instance, False, f"0x{code:04X}", comment or "no comment")
