"""DICOMweb through dicomweb-client: QIDO-RS (echo, find), WADO-RS (fetch) and STOW-RS (send).

Authentication: HTTP basic with ``--user`` and ``DICOMREG_PASSWORD``, or a bearer token from
``DICOMREG_TOKEN``; neither is ever printed. Each HTTP or connection failure becomes one
:class:`NetError` line naming the status and what it means here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dicomreg.core.net.peers import NetError, NetOptions, WebPeer
from dicomreg.core.net.results import FileIdentity, SeriesInfo, StoreOutcome
from dicomreg.core.net.tls import check_tls_files, tls_failure

__all__ = ["echo", "fetch_instances", "find_series", "instance_list", "store_files"]

_MEANING = {401: "not authenticated: check --user and DICOMREG_PASSWORD, or DICOMREG_TOKEN",
            403: "the user may not do this", 404: "no such resource (check the URL)",
            409: "the peer stored none of the instances"}


def _session(options: NetOptions):
    import requests
    from requests.adapters import HTTPAdapter

    class _Adapter(HTTPAdapter):
        def send(self, request, **kwargs):
            kwargs["timeout"] = kwargs.get("timeout") or options.timeout  # none per session
            if options.tls_ca:  # else REQUESTS_CA_BUNDLE, if set, wins over session.verify
                kwargs["verify"] = options.tls_ca
            return super().send(request, **kwargs)

    session = requests.Session()
    session.mount("http://", _Adapter())
    session.mount("https://", _Adapter())
    check_tls_files(options)
    if options.tls_cert:
        session.cert = (options.tls_cert, options.tls_key) if options.tls_key \
            else options.tls_cert
    if options.token:
        session.headers["Authorization"] = f"Bearer {options.token}"
    elif options.user:
        session.auth = (options.user, options.password or "")
    return session


@contextmanager
def _client(peer: WebPeer, options: NetOptions) -> Iterator:
    """A DICOMweb client, every failure of whose requests is one NetError."""
    import requests
    from dicomweb_client.api import DICOMwebClient

    session = _session(options)
    try:
        client = DICOMwebClient(url=peer.url, session=session)
        # Its retrying retries every exception too (5 attempts, 30 s of back-off): a refused
        # connection or a TLS failure would take half a minute to say; --timeout governs.
        client.set_http_retry_params(retry=False)
        yield client, session
    except NetError:
        raise
    except requests.HTTPError as error:
        code = error.response.status_code if error.response is not None else 0
        raise NetError(f"{peer}: HTTP {code} {getattr(error.response, 'reason', '')}"
                       f" ({_MEANING.get(code, 'refused')})") from None
    except requests.Timeout:
        raise NetError(f"{peer}: no answer within {options.timeout:g} s") from None
    except requests.exceptions.SSLError as error:
        raise NetError(f"{peer}: TLS: {_tls_reason(error)}") from None
    except requests.ConnectionError as error:
        raise NetError(f"{peer}: {_connection_failure(error)}") from None
    except (requests.RequestException, ValueError) as error:
        raise NetError(f"{peer}: {error}") from None
    finally:
        session.close()


def _tls_reason(error: Exception) -> str:
    return tls_failure(str(error)) or "the TLS handshake failed"


def _connection_failure(error: Exception) -> str:
    text = str(error)
    if "RemoteDisconnected" in text or "Connection reset" in text or "BadStatusLine" in text:
        # what a TLS port (stunnel, nginx) does with a plain http request
        return ("the peer closed the connection without an answer (an https service? then "
                "write https://)")
    return "cannot connect"


def echo(peer: WebPeer, options: NetOptions) -> None:
    """A QIDO-RS study search for one result: the service answers and lets us in."""
    with _client(peer, options) as (client, _):
        client.search_for_studies(limit=1)


def _value(row: dict, tag: str) -> str:
    values = row.get(tag, {}).get("Value") or [""]
    first = values[0]
    return str(first.get("Alphabetic", "")) if isinstance(first, dict) else str(first)


def find_series(peer: WebPeer, options: NetOptions, *, patient: str = "", study: str = "",
                series: str = "", modality: str = "") -> list[SeriesInfo]:
    """A QIDO-RS series search with the given keys."""
    filters = {k: v for k, v in (("PatientID", patient), ("StudyInstanceUID", study),
                                 ("SeriesInstanceUID", series), ("Modality", modality)) if v}
    fields = ["PatientID", "PatientName", "StudyDescription", "SeriesDescription",
              "NumberOfSeriesRelatedInstances"]
    with _client(peer, options) as (client, _):
        rows = client.search_for_series(search_filters=filters, fields=fields)
    found = []
    for row in rows:
        count = _value(row, "00201209")
        found.append(SeriesInfo(
            study=_value(row, "0020000D"), series=_value(row, "0020000E"),
            modality=_value(row, "00080060"), description=_value(row, "0008103E"),
            instances=int(count) if count else None,
            study_description=_value(row, "00081030"), patient_id=_value(row, "00100020"),
            patient_name=_value(row, "00100010")))
    return found


def instance_list(peer: WebPeer, options: NetOptions, study: str,
                  series: str) -> dict[str, str]:
    """Each instance of the series (QIDO-RS): SOP Instance UID -> SOP Class UID."""
    with _client(peer, options) as (client, _):
        rows = client.search_for_instances(study_instance_uid=study,
                                           series_instance_uid=series)
    return {_value(row, "00080018"): _value(row, "00080016") for row in rows}


def fetch_instances(peer: WebPeer, options: NetOptions, study: str, series: str,
                    received: Callable[[str, bytes], None]) -> None:
    """WADO-RS: each instance of the series handed to ``received`` as a Part 10 file."""
    from io import BytesIO

    with _client(peer, options) as (client, _):
        for ds in client.iter_series(study_instance_uid=study, series_instance_uid=series):
            buffer = BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            received(str(ds.SOPInstanceUID), buffer.getvalue())


def _multipart(paths: list[Path]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n"
                    + path.read_bytes() + b"\r\n" for path in paths)
    return (body + b"--" + boundary.encode() + b"--\r\n",
            f'multipart/related; type="application/dicom"; boundary={boundary}')


def store_files(peer: WebPeer, options: NetOptions,
                headers: dict[Path, FileIdentity]) -> list[StoreOutcome]:
    """STOW-RS of the files as they are on disk; each file's fate from the response's
    Referenced and Failed SOP Sequences."""
    paths = list(headers)
    body, content_type = _multipart(paths)
    with _client(peer, options) as (_, session):
        response = session.post(f"{peer.url}/studies", data=body,
                                headers={"Content-Type": content_type,
                                         "Accept": "application/dicom+json"})
        if response.status_code not in (200, 202, 409):
            response.raise_for_status()
            raise NetError(f"{peer}: STOW-RS answered HTTP {response.status_code}")
    try:
        answer = json.loads(response.content or b"{}")
    except ValueError:
        raise NetError(f"{peer}: STOW-RS answered HTTP {response.status_code} without the "
                       "JSON response it must give") from None
    stored = {_value(item, "00081155") for item in
              answer.get("00081199", {}).get("Value", [])}
    failed = {_value(item, "00081155"): _value(item, "00081197") for item in
              answer.get("00081198", {}).get("Value", [])}
    outcomes = []
    for path in paths:
        uid = headers[path][1]
        if uid in stored:
            outcomes.append(StoreOutcome(path, uid, True, str(response.status_code)))
        else:
            reason = failed.get(uid)
            outcomes.append(StoreOutcome(
                path, uid, False, str(response.status_code),
                f"failure reason {reason}" if reason else "not in the peer's list of "
                "stored instances"))
    return outcomes
