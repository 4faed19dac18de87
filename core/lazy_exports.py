"""Package faces that import a submodule only when one of its names is first used.

Each concept folder's ``__init__`` names the modules whose public names (their ``__all__``)
it offers, through :func:`lazy_exports` (PEP 562). ``from dicomreg.core.dicom import
scan_volumes`` then imports the volume list, not pydicom's machinery for the tag dump beside
it: the command line's ``scan`` must stay cheaper than the imports it would otherwise pay for.
A module's ``__all__`` is read from its source (it must be a literal list or tuple of
strings), so the public names are declared once, in the module that defines them.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

__all__ = ["lazy_exports"]


@cache
def _declared_names(module: str) -> tuple[str, ...]:
    """A module's ``__all__``, read from its source without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"no module {module!r}")
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), spec.origin)
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                return tuple(ast.literal_eval(node.value))
    raise ImportError(f"{module} declares no __all__")


def lazy_exports(package: str, modules: Sequence[str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package face offering ``modules``' names.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    modules : Sequence[str]
        The submodules (relative to ``package``) whose ``__all__`` the face offers; a name
        declared by two of them is an error when looked up.

    Returns
    -------
    tuple
        The two module-level functions PEP 562 looks up. ``__all__`` itself is one of the
        names they answer, so that ``from package import *`` works.
    """

    @cache
    def where() -> dict[str, str]:
        found: dict[str, str] = {}
        for module in modules:
            for name in _declared_names(f"{package}.{module}"):
                if name in found:
                    raise ImportError(f"{package}: {name!r} is declared by both "
                                      f"{found[name]} and {module}")
                found[name] = module
        return found

    def module_getattr(name: str) -> Any:
        if name == "__all__":
            return sorted(where())
        if name in where():
            value = getattr(importlib.import_module(f"{package}.{where()[name]}"), name)
            importlib.import_module(package).__dict__[name] = value  # looked up once
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def module_dir() -> list[str]:
        return sorted(where())

    return module_getattr, module_dir
