"""How a displacement field file was written (:class:`FieldConvention`) and the choices of
each option (:data:`CONVENTION_OPTIONS`), apart from the conversions of
:mod:`.conventions` so that the command line's option choices cost no numpy import (it made
``dicomreg save --help`` take a third of a second)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from dataclasses import field as dataclass_field
from typing import Any

from dicomreg.core.errors import DicomRegError

__all__ = ["CONVENTION_OPTIONS", "ConventionError", "FieldConvention"]


class ConventionError(DicomRegError):
    """A convention option that is unknown or cannot be applied; the message says why."""


def _option(*choices: str) -> Any:
    """A convention option: its choices, the first (ITK's, the REG's own) the default."""
    return dataclass_field(default=choices[0], metadata={"choices": choices})


@dataclass(frozen=True)
class FieldConvention:
    """How a displacement field file was written; every default is the REG's own convention.

    Raises
    ------
    ConventionError
        On construction, for a value that is not one of its option's choices, naming the
        option, the value and the choices.
    """

    components: str = _option("lps", "ras")
    units: str = _option("mm", "voxel")
    kind: str = _option("displacement", "deformation")
    direction: str = _option("pull", "push")

    def __post_init__(self) -> None:
        for option, value in asdict(self).items():
            if value not in CONVENTION_OPTIONS[option]:
                raise ConventionError(f"{option}: {value!r} is not one of "
                                      f"{', '.join(CONVENTION_OPTIONS[option])}")


#: option -> its choices, the first the default (the command line's choices come from here)
CONVENTION_OPTIONS: dict[str, tuple[str, ...]] = {
    option.name: option.metadata["choices"] for option in fields(FieldConvention)}
