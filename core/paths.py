"""The one rule for a path a user writes: in a field, a node setting, an option or a manifest.

``~`` and ``~user`` are expanded, then environment variables (``$VAR``, ``${VAR}``; an unset
one stays as written), surrounding blanks are dropped, and a relative path is taken relative
to a base directory: the flow's, the manifest's, or the working directory. Variables are
expanded because the module documentation says so of its file names (and flows rely on it);
the path is not resolved further (no symbolic links followed), so that it reads as written.
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
    return path if path.is_absolute() else Path(base_dir or Path.cwd()) / path
