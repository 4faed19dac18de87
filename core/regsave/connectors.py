"""What each of DicomREGSave's connectors holds, in one line each, for a panel or a node.

A save needs a displacement field at input0; input1 (the moving image) is what the
Referenced Image Sequence names; inputBase is a DICOM tree or a volume list to inherit from;
inputModifierList changes the Dataset before it is written.
"""

from __future__ import annotations

from typing import Any

from dicomreg.core.dicom import VolumeList

__all__ = ["CONNECTOR_HELP", "CONNECTOR_TITLES", "describe_connectors"]

#: Each connector's name -> what it is for, short enough for a panel's label column.
CONNECTOR_TITLES = {
    "input0": "Field",
    "input1": "Moving",
    "inputBase": "Base",
    "inputModifierList": "Modifiers",
}
#: What each connector takes, for a tooltip.
CONNECTOR_HELP = {
    "input0": "the displacement field to save, with the fixed image's DICOM when it has any",
    "input1": "the moving image: the instances the Referenced Image Sequence names",
    "inputBase": "a DICOM tree or a volume list to inherit from",
    "inputModifierList": "modifier plugins that change the Dataset before it is written",
}


def _image(image: Any) -> str:
    text = image.describe()
    return f"{text} from {image.source}" if image.source else text


def _base(base: Any) -> str:
    if isinstance(base, VolumeList):
        return f"{len(base)} volume(s) in {base.source}" if base.source else \
            f"{len(base)} volume(s)"
    return (f"DICOM tree: {base.get('Modality', '?')} "
            f"{base.get('SOPInstanceUID', '(no SOP Instance UID)')}")


def describe_connectors(module: Any) -> dict[str, str]:
    """Each connector's name -> what it holds now ("empty" when nothing is connected)."""
    plugins = list(module.inputModifierList or [])
    return {
        "input0": _image(module.input0) if module.input0 is not None else "empty",
        "input1": _image(module.input1) if module.input1 is not None else "empty",
        "inputBase": _base(module.inputBase) if module.inputBase is not None else "empty",
        "inputModifierList": ", ".join(getattr(p, "name", type(p).__name__) for p in plugins)
        or "empty",
    }
