"""Decompressing a field's voxels into one array, every byte accounted for.

ITK reads a damaged or truncated compressed stream without failing (MetaIO prints
"Uncompress failed" and leaves zeros; a cut .nii.gz is filled with whatever is at hand), and
holds the field two or three times over while it reads. Here the stream is inflated chunk by
chunk straight into the array the field will live in, and it must give exactly the bytes the
header promises.

A save need not wait for the whole field: :func:`inflate_ahead` gives the same pieces from a
thread that inflates a few of them ahead (see :mod:`.streamed`), the same checks at the same
points of the stream.

The inflater is ISA-L's (python-isal's ``isal_zlib``, two to three times as fast as zlib on
float voxels, the same streams and checksums) where it is installed, zlib otherwise.
"""

from __future__ import annotations

import os
import queue
import threading
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np


def _inflater() -> tuple[object, tuple[type[Exception], ...]]:
    """ISA-L's zlib interface and the errors it raises, else zlib's; imported on first use
    (an uncompressed field never needs it)."""
    try:  # a dependency; the fallback keeps a platform without its wheel working
        from isal import isal_zlib

        return isal_zlib, (zlib.error, isal_zlib.error)
    except ImportError:  # pragma: no cover - isal is installed with the package
        return zlib, (zlib.error,)


__all__ = ["exact_pieces", "inflate", "inflate_ahead", "inflated_length"]

_CHUNK = 1 << 22


def _reason(error: Exception) -> str:
    """The inflater's complaint, a failed checksum in zlib's words whichever inflater saw it
    (ISA-L says "Incorrect checksum found")."""
    text = str(error)
    return "incorrect data check" if "checksum" in text.lower() else text


def _pieces(handle: BinaryIO, gzip: bool, stored: int | None
            ) -> Iterator[tuple[bytes, bool]]:
    """The decompressed stream in pieces of at most a chunk (so that a highly compressed
    stream never comes out whole, a second copy of the field), each with whether it ends a
    stream; a gzip file's members one after another, as bgzip writes them.

    Raises ValueError if the stream is corrupt (zlib checks each stream's checksum at its
    end: Adler-32, or gzip's CRC-32, so a damaged stream that still inflates is caught)."""
    wbits = 31 if gzip else 15
    inflater, errors = _inflater()
    decompressor = inflater.decompressobj(wbits)
    remaining = stored
    pending = b""
    while True:
        if pending:
            chunk, pending = pending, b""
        else:
            size = _CHUNK if remaining is None else min(_CHUNK, remaining)
            chunk = handle.read(size) if size > 0 else b""
            if remaining is not None:
                remaining -= len(chunk)
        if not chunk:
            return
        try:
            piece = decompressor.decompress(chunk, _CHUNK)
            while decompressor.unconsumed_tail and not decompressor.eof:
                yield piece, False
                piece = decompressor.decompress(decompressor.unconsumed_tail, _CHUNK)
        except errors as error:
            raise ValueError(f"its compressed voxels are corrupt ({_reason(error)})") from None
        yield piece, decompressor.eof
        if decompressor.eof:
            rest = decompressor.unused_data
            if not gzip:
                return
            if not rest:
                rest = handle.read(2)
            if not rest or not rest.startswith(b"\x1f\x8b"[: len(rest)]):
                return  # the end of the file, or other bytes after the stream
            decompressor = inflater.decompressobj(wbits)  # the next gzip member
            pending = rest


def exact_pieces(handle: BinaryIO, count: int, *, gzip: bool = False, skip: int = 0,
                 stored: int | None = None, exact: bool = True) -> Iterator[bytes]:
    """The ``count`` bytes after the first ``skip`` of a compressed stream, in pieces of at
    most 4 MB; the stream is read to its end (and its checksum) before the last one returns.

    Parameters are those of :func:`inflate`.

    Raises
    ------
    ValueError
        If the stream is corrupt, ends early, or (``exact``) holds more than promised; the
        message says which, without the file's name. A consumer sees every piece before the
        error, so whatever it built from them must be thrown away.
    """
    filled = 0
    to_skip = skip
    ends_stream = False
    for piece, ends_stream in _pieces(handle, gzip, stored):
        if to_skip:
            dropped = min(to_skip, len(piece))
            piece, to_skip = piece[dropped:], to_skip - dropped
        if filled + len(piece) > count:
            if exact and piece[count - filled:]:
                raise ValueError("its compressed voxels hold more data than its header "
                                 "promises")
            piece = piece[: count - filled]
        if piece:
            yield piece
        filled += len(piece)
        if ends_stream and filled >= count:
            break  # later gzip members, if any, hold no voxel of ours
    if filled < count:
        raise ValueError(f"its compressed voxels end after {filled} of {count} bytes (a "
                         "truncated or damaged file)")
    if not ends_stream:
        # Every voxel came out, but the stream stops before its end and its checksum
        # (Adler-32, gzip's CRC-32): a cut file whose damage the checksum would have shown.
        raise ValueError("its compressed voxels end before the stream's checksum (a "
                         "truncated file); every byte must be checked")


def inflate(handle: BinaryIO, count: int, *, gzip: bool = False, skip: int = 0,
            stored: int | None = None, exact: bool = True) -> np.ndarray:
    """The ``count`` bytes after the first ``skip`` of a compressed stream, as uint8.

    Parameters
    ----------
    handle
        Open at the stream's first byte.
    gzip
        A gzip file (one member or several one after another, as bgzip writes them); else a
        zlib stream (MetaImage).
    stored
        How many compressed bytes to read at most (None: to the end of the file).
    exact
        Refuse a stream that holds more than ``skip + count`` bytes (else the rest of the
        stream is decompressed, to its checksum, and dropped).

    Raises
    ------
    ValueError
        If the stream is corrupt, ends early, or (``exact``) holds more than promised; the
        message says which, without the file's name.
    """
    out = np.empty(count, dtype=np.uint8)
    filled = 0
    for piece in exact_pieces(handle, count, gzip=gzip, skip=skip, stored=stored, exact=exact):
        out[filled : filled + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        filled += len(piece)
    return out


_END = object()


def inflate_ahead(path: str | os.PathLike[str], offset: int, count: int, *,
                  stored: int | None = None, depth: int = 4) -> Iterator[bytes]:
    """The pieces of :func:`exact_pieces` for the zlib stream at ``offset`` of ``path``,
    inflated ahead by a thread while the caller uses the previous ones.

    ISA-L and zlib release the GIL while they inflate, so on a second core the inflating
    overlaps the caller's work: a save then takes about the longer of the two, not their
    sum. At most ``depth`` pieces (4 MB each) wait, so memory stays bounded whatever the
    field's size. Closing the iterator early stops the thread.

    Raises
    ------
    ValueError
        As :func:`exact_pieces`, when the caller reaches the point where it was found.
    OSError
        If the file cannot be read.
    """
    waiting: queue.Queue[object] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                for piece in exact_pieces(handle, count, stored=stored):
                    if not put(piece):
                        return
            put(_END)
        except BaseException as error:  # noqa: BLE001 - every failure reaches the caller
            # (a MemoryError or a bug must not end the thread silently: the caller would
            # wait for the next piece for ever)
            put(error)

    thread = threading.Thread(target=work, name="inflate-ahead", daemon=True)
    thread.start()
    try:
        while (item := waiting.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def inflated_length(handle: BinaryIO) -> int:
    """How many bytes a gzip file decompresses to, as far as its streams are intact."""
    total = 0
    try:
        for piece, _ in _pieces(handle, gzip=True, stored=None):
            total += len(piece)
    except ValueError:
        pass
    return total
