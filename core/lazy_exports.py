"""Package faces that import a submodule only when one of its names is first used.

Each concept folder's ``__init__`` re-exports its public names through :func:`lazy_exports`
(PEP 562), so that ``from dicomreg.core.dicom import scan_volumes`` does not import pydicom's
machinery for the tag dump beside it: the command line's ``scan`` must stay cheaper than the
imports it would otherwise pay for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str]
                 ) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for a package face.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    where : Mapping[str, str]
        Each exported name and the submodule (relative to ``package``) that defines it.

    Returns
    -------
    tuple
        The names, sorted, and the two module-level functions that PEP 562 looks up.
    """
    names = sorted(where)

    def module_getattr(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
            globals_of_package = importlib.import_module(package).__dict__
            globals_of_package[name] = value  # looked up once
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def module_dir() -> list[str]:
        return list(names)

    return names, module_getattr, module_dir
