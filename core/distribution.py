"""The installed distribution that holds the ``dicomreg`` package: its name and version.

Both are read from the installed metadata rather than written here, so that the core names
no package but its own import name: the name (our Manufacturer, the seed of our
Implementation Class UID, the install hints) and the version (``--version``, Software
Versions) stay those of whatever distribution installed us.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

__all__ = ["distribution_name", "package_version"]

_IMPORT_NAME = "dicomreg"


@cache
def _distribution() -> metadata.Distribution | None:
    # setuptools writes top_level.txt for every distribution it builds; scanning those of the
    # environment takes a few milliseconds, packages_distributions() some hundred.
    for distribution in metadata.distributions():
        if _IMPORT_NAME in (distribution.read_text("top_level.txt") or "").split():
            return distribution
    return None


def distribution_name() -> str:
    """The name of the distribution that installed ``dicomreg`` (``dicomreg`` when none
    did: a source tree on ``sys.path``)."""
    distribution = _distribution()
    return distribution.metadata["Name"] if distribution is not None else _IMPORT_NAME


def package_version() -> str:
    """That distribution's version (``0+unknown`` when none installed us)."""
    distribution = _distribution()
    return distribution.version if distribution is not None else "0+unknown"
