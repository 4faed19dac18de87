"""The one rule for a path a user writes: in a field, a node setting, an option or a manifest.

``~`` and ``~user`` are expanded, then environment variables (``$VAR``, ``${VAR}``; an unset
one stays as written), surrounding blanks are dropped, and a relative path is taken relative
to a base directory: the flow's, the manifest's, or the working directory. Variables are
expanded because the module documentation says so of its file names (and flows rely on it).
The result is normalised (``a/./b`` and ``a/x/../b`` are ``a/b``), so that True File Name and
every message show the path a person would write; symbolic links are not followed, so that it
still reads as written (a ``..`` after a symbolic link to a directory is taken lexically, as
a shell's ``cd`` does).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["resolve_path"]


def resolve_path(text: str | os.PathLike[str],
                 base_dir: str | os.PathLike[str] | None = None) -> Path:
    """The path ``text`` names.

    Parameters
    ----------
    text
        The path as written; user home and environment variables are expanded.
    base_dir
        What a relative path is relative to; the working directory when None.
    """
    path = Path(os.path.expandvars(os.path.expanduser(os.fspath(text).strip())))
    if not path.is_absolute():
        path = Path(base_dir or Path.cwd()) / path
    return Path(os.path.normpath(path))
