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
import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

__all__ = ["lazy_exports"]


# A top-level ``__all__ = [...]`` (or ``(...)``, with or without an annotation), up to the
# first closing bracket: public names hold no brackets.
_ALL_LITERAL = re.compile(r"^__all__\s*(?::[^=\n]*)?=\s*([\[(][^\])]*[\])])", re.MULTILINE)


@cache
def _declared_names(module: str) -> tuple[str, ...]:
    """A module's ``__all__``, read from its source without importing it.

    The literal alone is evaluated, not the module parsed: parsing each module's whole
    source cost a small save a third of its time (about 10 ms a module, some 40 of them).
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"no module {module!r}")
    with open(spec.origin, encoding="utf-8") as source:
        found = _ALL_LITERAL.search(source.read())
    try:
        names = ast.literal_eval(found.group(1)) if found else None
    except (ValueError, SyntaxError):
        names = None
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ImportError(f"{module} declares no __all__ as a literal list of names")
    return tuple(names)


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
