"""The rules between fields, as the table declares them: which fields a person may set, which
follow another, and which have no effect in the current state.

- Non-persistent fields are the module's outputs (``numVolumes``, ``tagDump``, ...): only the
  module itself updates them; setting one from outside is refused.
- A String twin (``patientSexString``) ``follows`` its enum: while the enum is not User
  Defined the string is the enum's value, and setting the string to anything else is refused
  with the reason (the documentation: "can be modified manually only if ... User Defined").
- A field with ``sensitive_when`` has no effect in other states (File Name for inheritance
  while Input Selector is not File): setting it is accepted with a note, so that a script may
  set a field before the one that enables it, and a panel greys its editor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dicomreg.core.fields.table import FIELDS, USER_DEFINED, Field, field_by_name

__all__ = ["TWINS", "assignment_problems", "followed_values", "insensitivity_notes"]

#: enum field name -> the String field that follows it
TWINS: dict[str, str] = {f.follows: f.name for f in FIELDS if f.follows}


def _after(parsed: Mapping[str, Any], current: Mapping[str, Any], name: str) -> Any:
    return parsed[name] if name in parsed else current.get(name)


def assignment_problems(parsed: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Why the assignments ``parsed`` (field name -> typed value) may not be made from
    outside, given the ``current`` values; empty when they may. One line per problem."""
    problems = []
    for name, value in parsed.items():
        f = field_by_name(name)
        if not f.persistent:
            problems.append(f"{f.name}: is an output of the module (read-only); it is set by "
                            "the module, not by hand")
        elif f.follows:
            enum = _after(parsed, current, f.follows)
            if enum != USER_DEFINED and value != enum:
                problems.append(f"{f.name}: can be set only while {f.follows} is "
                                f"'{USER_DEFINED}'; it is '{enum}', which the string follows "
                                f"(set {f.follows}='{USER_DEFINED}' as well)")
    return problems


def followed_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The String twins' values implied by their enums (for enums not User Defined)."""
    return {string: values[enum] for enum, string in TWINS.items()
            if values.get(enum, USER_DEFINED) != USER_DEFINED}


def _state_text(f: Field, value: Any) -> str:
    found = f.enum_value(str(value)) if f.enum_values else None
    return found.name if found else str(value)


def insensitivity_notes(names: list[str], values: Mapping[str, Any]) -> list[str]:
    """A note for each of the fields ``names`` that has no effect with these ``values``."""
    notes = []
    for name in names:
        f = field_by_name(name)
        if f.sensitive_when is None or f.is_sensitive(values):
            continue
        controller, states = f.sensitive_when
        state = _state_text(field_by_name(controller), values.get(controller))
        wanted = " or ".join(states)
        notes.append(f"{f.name} has no effect while {controller} is {state} (only while it "
                     f"is {wanted})")
    return notes
