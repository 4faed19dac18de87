"""A read-only, seekable raw stream of known length: the shared part of our lazy readers.

pydicom and numpy read values through file-like objects; the vector grid (served from an
array) and a region of a DICOM file (served from disk) both present themselves this way,
and differ only in how ``readinto`` fills a buffer.
"""

from __future__ import annotations

import io
import os

__all__ = ["SeekableReader"]


class SeekableReader(io.RawIOBase):
    """A readable, seekable raw stream of ``length`` bytes; subclasses define ``readinto``.

    Parameters
    ----------
    length : int
        The number of bytes the stream holds; ``SEEK_END`` is relative to it.
    """

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length = length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self.length}[whence]
        self._position = max(0, base + offset)
        return self._position
