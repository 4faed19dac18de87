"""Where a peer is and how to talk to it: the address forms of the command line, and the
connection options (calling AE title, timeout, TLS, HTTP authentication).

Addresses, as ``dicomreg echo/find/fetch/send`` and ``--fixed``/``--moving`` accept them:

- ``AET@HOST:PORT``: a DIMSE peer (its AE title, host and port);
- ``AET@HOST:PORT/STUDY_UID/SERIES_UID``: one series there;
- ``http(s)://HOST[:PORT]/PATH``: a DICOMweb service (its root, as QIDO-RS is under it);
- ``http(s)://.../studies/STUDY_UID/series/SERIES_UID``: one series of that service.

Passwords and tokens come from the environment only (``DICOMREG_PASSWORD``,
``DICOMREG_TOKEN``), so that they are in no command line, no process list and no message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from dicomreg.core.errors import DicomRegError

__all__ = ["DimsePeer", "NetError", "NetOptions", "SeriesAddress", "WebPeer", "is_remote",
           "parse_peer", "parse_series_address"]

_UID = r"[0-9][0-9.]{0,63}"
_DIMSE = re.compile(r"^(?P<aet>[^@/\\]{1,16})@(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/@\[\]]+)"
                    r":(?P<port>\d{1,5})(?:/(?P<study>" + _UID + r")(?:/(?P<series>" + _UID
                    + r"))?)?/?$")
_WEB_SERIES = re.compile(r"^(?P<root>https?://.+?)/studies/(?P<study>" + _UID
                         + r")(?:/series/(?P<series>" + _UID + r"))?/?$")
_ACCEPTED = ("AET@HOST:PORT (a DIMSE peer) or http(s)://HOST/PATH (a DICOMweb service "
             "root)")


class NetError(DicomRegError):
    """A peer that cannot be reached, refuses, or answers wrongly; the message says which."""


@dataclass(frozen=True)
class DimsePeer:
    """A DIMSE peer: the called AE title, its host and TCP port."""

    aet: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"


@dataclass(frozen=True)
class WebPeer:
    """A DICOMweb service, by its root URL (QIDO-RS, WADO-RS and STOW-RS under it)."""

    url: str

    def __str__(self) -> str:
        return self.url


Peer = DimsePeer | WebPeer


@dataclass(frozen=True)
class SeriesAddress:
    """One series on a peer."""

    peer: Peer
    study: str
    series: str

    def __str__(self) -> str:
        if isinstance(self.peer, WebPeer):
            return f"{self.peer.url}/studies/{self.study}/series/{self.series}"
        return f"{self.peer}/{self.study}/{self.series}"


@dataclass(frozen=True)
class NetOptions:
    """How we connect: our calling AE title, the timeout of each step in seconds, TLS for
    DIMSE (on, and the certificates: the CA we trust, ours and its key, also used for
    https), the HTTP user, and for C-MOVE the address our storage SCP listens on."""

    calling_aet: str = "DICOMREG"
    timeout: float = 30.0
    use_tls: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    user: str | None = None
    listen_host: str = "0.0.0.0"
    listen_port: int = 11113

    @property
    def tls(self) -> bool:
        """Whether DIMSE associations go over TLS: asked for, or implied by a CA or our
        certificate."""
        return bool(self.use_tls or self.tls_ca or self.tls_cert or self.tls_key)

    @property
    def password(self) -> str | None:
        """The HTTP password, from ``DICOMREG_PASSWORD`` (never from the command line)."""
        return os.environ.get("DICOMREG_PASSWORD")

    @property
    def token(self) -> str | None:
        """A bearer token, from ``DICOMREG_TOKEN``."""
        return os.environ.get("DICOMREG_TOKEN")


def _dimse(match: re.Match[str]) -> DimsePeer:
    port = int(match["port"])
    if not 0 < port < 65536:
        raise NetError(f"port {port} of '{match[0]}' is not in 1..65535")
    return DimsePeer(match["aet"].strip(), match["host"].strip("[]"), port)


def is_remote(text: str | None) -> bool:
    """Whether ``text`` is a peer's address rather than a local path."""
    return bool(text) and (text.startswith(("http://", "https://"))
                           or _DIMSE.match(text) is not None)


def parse_peer(text: str) -> Peer:
    """A peer from ``AET@HOST:PORT`` or a DICOMweb root URL.

    Raises
    ------
    NetError
        For anything else, naming the accepted forms.
    """
    if text.startswith(("http://", "https://")):
        if _WEB_SERIES.match(text):
            raise NetError(f"'{text}' names a study or series; expected the service's root "
                           "(the URL before /studies)")
        return WebPeer(text.rstrip("/"))
    match = _DIMSE.match(text)
    if match is None or match["study"]:
        raise NetError(f"peer '{text}': expected {_ACCEPTED}")
    return _dimse(match)


def parse_series_address(text: str) -> SeriesAddress:
    """A series from ``AET@HOST:PORT/STUDY_UID/SERIES_UID`` or a DICOMweb series URL.

    Raises
    ------
    NetError
        For anything else, naming the accepted forms.
    """
    web = _WEB_SERIES.match(text) if text.startswith(("http://", "https://")) else None
    if web is not None and web["series"]:
        return SeriesAddress(WebPeer(web["root"]), web["study"], web["series"])
    match = _DIMSE.match(text)
    if match is not None and match["series"]:
        return SeriesAddress(_dimse(match), match["study"], match["series"])
    raise NetError(f"series '{text}': expected AET@HOST:PORT/STUDY_UID/SERIES_UID or "
                   "http(s)://HOST/PATH/studies/STUDY_UID/series/SERIES_UID")
