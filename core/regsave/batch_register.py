"""A batch row with a ``method``: register its fixed image to its moving one, in the worker,
as ``dicomreg register`` does, instead of reading a field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dicomreg.core.errors import DicomRegError
from dicomreg.core.input import resolve_path

__all__ = ["register_case", "write_quality"]


def register_case(method: str, fixed: str, moving: str, base_dir: str,
                  volumes: dict[str, object]) -> Any:
    """The registration of one row (a :class:`~dicomreg.core.registration.RegistrationResult`),
    with the method's defaults and seed, so that a rerun gives the same REG.

    Raises
    ------
    DicomRegError
        When the row lacks a fixed or moving image, or the registration fails.
    """
    from dicomreg.core.registration import METHODS, load_image, register

    if method not in METHODS:
        raise DicomRegError(f"method: {method!r} is not one of {', '.join(METHODS)}")
    if not fixed or not moving:
        raise DicomRegError(f"method {method}: the row needs a fixed and a moving image to "
                            "register (and no field)")
    images = [load_image(resolve_path(path, base_dir), volumes.get(f"{role}_volume"),
                         f"{role}_volume", f"{role} image")
              for role, path in (("fixed", fixed), ("moving", moving))]
    return register(*images, method)


def write_quality(result: Any, output: Path) -> str:
    """The quality report written beside the REG (``OUTPUT.quality.json``); its line."""
    path = Path(f"{output}.quality.json")
    result.quality.write(path)
    return f"quality: {result.quality.describe()} (written to {path.name})"
