"""The field reference, derived from the field table (``dicomreg fields``, ``docs/fields.md``)."""

from __future__ import annotations

from dicomreg.core.fields.table import FIELDS, GROUPS, FieldType

__all__ = ["field_reference"]

_HEADER = """# DicomREGSave fields

Generated from the field table (`dicomreg.core.fields.FIELDS`) by `dicomreg fields --markdown`;
do not edit by hand. Names are those of MeVisLab's DicomREGSave documentation. Set any field
on the command line with `--set NAME=VALUE` (a deprecated name works too). Values are written
as the documentation writes them: Bool `TRUE`/`FALSE` (also `true`, `false`, `1`, `0`), Vector3
`0 0 0`, Matrix `1 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1` (or 16 numbers), Enum by name or title.

Fields marked *extension* are ours: the documentation names two fields without a field name,
"Tag Dump Size" (here `tagDumpSize`) and "Save" (here the trigger `save`); it has no field
for the Type 1 Instance Number (`instanceNumber`), none for Body Part Examined
(`bodyPartExamined`, which decides whether Laterality is required), none to choose whether
the equipment is inherited (`inheritEquipment`), none to undo an inheritance
(`undoInheritance`, which restores every value it replaced), and mentions a status field
without naming it (`status`). Non-persistent fields are outputs: they are not saved with
a flow, and setting one (`--set`, a flow's field port, the API) is refused.

Where this project deviates from the documentation, the field says so and why. Beyond those
notes, every field with a VR is checked against it when it is set (pydicom's validators plus
calendar dates, the IS range and UIDs without leading zeros in a component), which the
documentation leaves to the user; a refusal names the field and the rule. Enums accept their
names, titles (without regard to case) and the documented translations. A field that has an
effect only in some state may still be set in the others; `--set` then adds a note saying so,
and the panel greys its editor.
"""


def _default(text: str) -> str:
    return f"`{text}`" if text else "(empty)"


def field_reference(markdown: bool = False) -> str:
    """The reference of every field: name, title, type, default, rules and meaning."""
    if not markdown:
        lines = []
        for f in FIELDS:
            default = "" if f.type is FieldType.TRIGGER else f" = {f.default!r}"
            lines.append(f"{f.name:48s} {f.type.value:8s}{default}")
        return "\n".join(lines) + "\n"
    out = [_HEADER]
    for group in GROUPS:
        members = [f for f in FIELDS if f.group == group]
        if not members:
            continue
        out.append(f"\n## {group[0].upper() + group[1:]}\n")
        for f in members:
            facts = [f"type {f.type.value}"]
            if f.type is not FieldType.TRIGGER:
                facts.append(f"default {_default(f.default)}")
            if f.vr:
                facts.append(f"VR {f.vr}" + (", one per line" if f.multi_line else ""))
            if f.tag:
                facts.append(f"writes {f.tag}")
            if f.minimum is not None:
                facts.append(f"minimum {f.minimum}")
            if f.max_length is not None:
                facts.append(f"at most {f.max_length} characters")
            if not f.persistent:
                facts.append("persistent: no")
            if f.deprecated_names:
                facts.append("deprecated name " + ", ".join(f"`{n}`" for n in f.deprecated_names))
            if f.extension:
                facts.append("*extension*")
            if f.sensitive_when is not None:
                controller, states = f.sensitive_when
                facts.append(f"has an effect only while `{controller}` is "
                             + " or ".join(f"`{state}`" for state in states))
            if f.follows:
                facts.append(f"follows `{f.follows}` unless it is `User Defined`")
            out.append(f"- **{f.title}** (`{f.name}`): {'; '.join(facts)}. {f.description}")
            if f.deviation:
                out.append(f"  - *Deviation from the documentation:* {f.deviation}")
            if f.type is FieldType.ENUM and len(f.enum_values) <= 12:
                for value in f.enum_values:
                    old = (f" (deprecated: {', '.join(value.deprecated_names)})"
                           if value.deprecated_names else "")
                    about = f": {value.description}" if value.description else ""
                    out.append(f"  - `{value.name}` ({value.title}){old}{about}")
            elif f.type is FieldType.ENUM:
                out.append(f"  - values `{f.enum_values[0].name}` to "
                           f"`{f.enum_values[-2].name}`, and `{f.enum_values[-1].name}`")
    return "\n".join(out) + "\n"
