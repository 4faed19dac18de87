"""A study or series from a peer into a folder, whole or not at all, and the cache that
``--fixed``/``--moving`` addresses are fetched into.

The instances are written into a hidden temporary folder beside the target and moved into
place only when every instance the peer listed (C-FIND or QIDO-RS, before the retrieval)
has arrived; on any failure the temporary folder is removed and the target left as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dicomreg.core.net import dicomweb, dimse
from dicomreg.core.net.operations import find_on_peer, list_instances
from dicomreg.core.net.peers import (
    DimsePeer,
    NetError,
    NetOptions,
    Peer,
    SeriesAddress,
    parse_series_address,
)

__all__ = ["FetchResult", "cache_root", "fetch_series", "fetched_series"]

Progress = Callable[[int, int], None]  # instances received, instances expected


@dataclass(frozen=True)
class FetchResult:
    """What a fetch wrote: the folder, and how many instances of how many series."""

    path: Path
    instances: int
    series: int


class _Receiver:
    """Writes each instance as it arrives, counting against what was expected."""

    def __init__(self, folder: Path, expected: int, progress: Progress | None) -> None:
        self.folder, self.expected, self.progress = folder, expected, progress
        self.received: set[str] = set()

    def __call__(self, sop_instance: str, data: bytes) -> None:
        name = "".join(c for c in sop_instance if c.isdigit() or c == ".") or "instance"
        (self.folder / f"{name}.dcm").write_bytes(data)
        self.received.add(sop_instance)
        if self.progress:
            self.progress(len(self.received), self.expected)


def _retrieve(peer: Peer, options: NetOptions, study: str, series: str,
              expected: dict[str, str], receiver: _Receiver, move_to: str | None) -> None:
    if not isinstance(peer, DimsePeer):
        dicomweb.fetch_instances(peer, options, study, series, receiver)
    elif move_to:
        dimse.move_instances(peer, options, study, series, move_to, receiver)
    else:
        dimse.get_instances(peer, options, study, series, set(expected.values()), receiver)


def _prepare(target: Path) -> Path:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise NetError(f"output '{target}' exists and is not an empty folder; choose a new "
                       "folder (nothing is fetched into one that holds files)")
    if not target.parent.is_dir():
        raise NetError(f"output folder's parent '{target.parent}' does not exist")
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial",
                                      dir=target.parent))
    mask = os.umask(0)
    os.umask(mask)
    temporary.chmod(0o777 & ~mask)  # mkdtemp's 0700 would outlive the move into place
    return temporary


def fetch_series(peer: Peer, study: str, target: str | os.PathLike[str], *,
                 series: str | None = None, options: NetOptions | None = None,
                 move_to: str | None = None, progress: Progress | None = None) -> FetchResult:
    """Fetch one series (or every series of ``study``) into the new folder ``target``.

    C-GET for a DIMSE peer, C-MOVE to ``move_to`` when given, WADO-RS for a DICOMweb one.

    Raises
    ------
    NetError
        When the peer fails, or sends fewer instances than it listed; ``target`` is then
        untouched.
    """
    options = options or NetOptions()
    target = Path(target)
    series_uids = [series] if series else [
        found.series for found in find_on_peer(peer, options, study=study)]
    if not series_uids:
        raise NetError(f"{peer} has no series in study {study}")
    temporary = _prepare(target)
    try:
        total = 0
        for uid in series_uids:
            expected = list_instances(peer, options, study, uid)
            if not expected:
                raise NetError(f"{peer} lists no instance of series {uid} in study {study}")
            receiver = _Receiver(temporary, len(expected), progress)
            _retrieve(peer, options, study, uid, expected, receiver, move_to)
            missing = set(expected) - receiver.received
            if missing:
                raise NetError(f"{peer} sent {len(expected) - len(missing)} of the "
                               f"{len(expected)} instance(s) of series {uid} it lists; "
                               "nothing was kept")
            total += len(expected)
        if target.is_dir():
            target.rmdir()  # empty, checked above
        os.replace(temporary, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return FetchResult(target, total, len(series_uids))


def cache_root() -> Path:
    """Where fetched series are kept: ``$XDG_CACHE_HOME/dicomreg/series``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dicomreg" / "series"


def fetched_series(address: SeriesAddress | str, options: NetOptions | None = None,
                   progress: Progress | None = None) -> Path:
    """The local folder of a remote series, fetched on first use (a series' instances never
    change under its UID, so a complete folder in the cache is used as it is)."""
    if isinstance(address, str):
        address = parse_series_address(address)
    folder = cache_root() / address.series
    if not folder.is_dir() or not any(folder.iterdir()):
        folder.parent.mkdir(parents=True, exist_ok=True)
        fetch_series(address.peer, address.study, folder, series=address.series,
                     options=options, progress=progress)
    return folder
