"""Decompressing a field's voxels into one array, every byte accounted for.

ITK reads a damaged or truncated compressed stream without failing (MetaIO prints
"Uncompress failed" and leaves zeros; a cut .nii.gz is filled with whatever is at hand), and
holds the field two or three times over while it reads. Here the stream is inflated chunk by
chunk straight into the array the field will live in, and it must give exactly the bytes the
header promises.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

import numpy as np

__all__ = ["inflate"]

_CHUNK = 1 << 22


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
        Refuse a stream that holds more than ``skip + count`` bytes (else the rest is
        decompressed and dropped). Either way the stream is read to its end, so that zlib
        checks its checksum (Adler-32, or gzip's CRC-32): a damaged stream that still
        inflates is caught too.

    Raises
    ------
    ValueError
        If the stream is corrupt, ends early, or (``exact``) holds more than promised; the
        message says which, without the file's name.
    """
    out = np.empty(count, dtype=np.uint8)
    filled = 0
    to_skip = skip
    wbits = 31 if gzip else 15
    decompressor = zlib.decompressobj(wbits)
    remaining = stored
    pending = b""

    def take(piece: bytes) -> None:
        nonlocal filled, to_skip
        if to_skip:
            dropped = min(to_skip, len(piece))
            piece, to_skip = piece[dropped:], to_skip - dropped
        if filled + len(piece) > count:
            if exact and piece[count - filled:]:
                raise ValueError("its compressed voxels hold more data than its header "
                                 "promises")
            piece = piece[: count - filled]
        out[filled : filled + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        filled += len(piece)

    def limit() -> int:
        # Pieces of at most a chunk: a highly compressed stream would otherwise come out
        # whole in one call, a second copy of the field beside ``out``.
        missing = count - filled + to_skip
        return min(missing + 1, _CHUNK) if missing > 0 else _CHUNK

    while filled < count or not decompressor.eof:
        if pending:
            chunk, pending = pending, b""
        else:
            size = _CHUNK if remaining is None else min(_CHUNK, remaining)
            chunk = handle.read(size) if size > 0 else b""
            if remaining is not None:
                remaining -= len(chunk)
        if not chunk:
            break
        try:
            take(decompressor.decompress(chunk, limit()))
            while decompressor.unconsumed_tail and not decompressor.eof:
                take(decompressor.decompress(decompressor.unconsumed_tail, limit()))
        except zlib.error as error:
            raise ValueError(f"its compressed voxels are corrupt ({error})") from None
        if decompressor.eof:
            rest = decompressor.unused_data
            if not gzip or filled >= count:
                break
            if not rest:
                rest = handle.read(2)
            if not rest or not rest.startswith(b"\x1f\x8b"[: len(rest)]):
                break  # the end of the file, or other bytes after the stream
            decompressor = zlib.decompressobj(wbits)  # the next gzip member
            pending = rest
    if filled < count:
        raise ValueError(f"its compressed voxels end after {filled} of {count} bytes (a "
                         "truncated or damaged file)")
    return out
