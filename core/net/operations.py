"""Echo, find, list and send, whatever the peer speaks: DIMSE for ``AET@HOST:PORT``,
DICOMweb for a URL."""

from __future__ import annotations

from pathlib import Path

from dicomreg.core.net import dicomweb, dimse
from dicomreg.core.net.peers import DimsePeer, NetError, NetOptions, Peer, parse_peer
from dicomreg.core.net.results import SeriesInfo, StoreOutcome, file_identities

__all__ = ["echo_peer", "find_on_peer", "list_instances", "send_files"]


def _module(peer: Peer):
    return dimse if isinstance(peer, DimsePeer) else dicomweb


def _peer(peer: Peer | str) -> Peer:
    return parse_peer(peer) if isinstance(peer, str) else peer


def echo_peer(peer: Peer | str, options: NetOptions | None = None) -> Peer:
    """C-ECHO or a QIDO-RS search: raises :class:`NetError` unless the peer answers."""
    peer = _peer(peer)
    _module(peer).echo(peer, options or NetOptions())
    return peer


def find_on_peer(peer: Peer | str, options: NetOptions | None = None, *, patient: str = "",
                 study: str = "", series: str = "", modality: str = "") -> list[SeriesInfo]:
    """The series on the peer matching the keys (an empty key matches anything)."""
    peer = _peer(peer)
    return _module(peer).find_series(peer, options or NetOptions(), patient=patient,
                                     study=study, series=series, modality=modality)


def list_instances(peer: Peer, options: NetOptions, study: str, series: str) -> dict[str, str]:
    """The SOP Instance UIDs of one series, each with its SOP Class UID."""
    return _module(peer).instance_list(peer, options, study, series)


def send_files(peer: Peer | str, paths: list[str | Path],
               options: NetOptions | None = None) -> list[StoreOutcome]:
    """C-STORE or STOW-RS each file as it is on disk; each one's outcome.

    Raises
    ------
    NetError
        When the peer cannot be reached or refuses the association or request; a file the
        peer refuses is an outcome, not an error.
    """
    peer = _peer(peer)
    if not paths:
        raise NetError("no file to send")
    headers = file_identities([Path(p) for p in paths])
    return _module(peer).store_files(peer, options or NetOptions(), headers)
