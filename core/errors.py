"""The base of every error a user can cause: bad values, files, paths and sources.

The command line prints such an error as one line and exits non-zero; any other exception is
a bug and keeps its traceback. A module raises :class:`DicomRegError` itself unless a caller
tells its errors apart by type (an ``except`` or a test's ``pytest.raises`` naming a
subclass): a subclass that nobody catches by name only lengthens the path to the message.
"""

from __future__ import annotations

__all__ = ["DicomRegError"]


class DicomRegError(ValueError):
    """A refusal caused by the user's input; its message says what is wrong and what is
    accepted."""
