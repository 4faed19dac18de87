"""What each of DicomREGSave's connectors takes and holds: the one rule of what may be
connected (:func:`connector_problem`), and a line each for a panel or a node.

A save needs a displacement field at input0; input1 (the moving image) is what the
Referenced Image Sequence names; inputBase is a DICOM tree or a volume list to inherit from;
inputModifierList changes the Dataset before it is written. A node editor lets any output be
wired to any input, so what arrives is checked here when it is set, not when a save uses it
(a text wired to inputModifierList became a list of characters, and a save then failed with
an AttributeError).
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset

from dicomreg.core.dicom import VolumeList
from dicomreg.core.image import Image

__all__ = ["CONNECTOR_HELP", "CONNECTOR_TITLES", "connector_problem", "describe_connectors"]

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


def _is_plugin(value: Any) -> bool:
    return isinstance(getattr(value, "name", None), str) and callable(getattr(value, "apply",
                                                                              None))


def connector_problem(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be connected at connector ``name``, in one line naming what it
    takes; None when it can (None, nothing connected, always can)."""
    if value is None:
        return None
    kind = type(value).__name__
    if name in ("input0", "input1") and not isinstance(value, Image):
        return (f"{name}: a {kind} is not an image; it takes {CONNECTOR_HELP[name]} (an "
                "image source's output)")
    if name == "inputBase" and not isinstance(value, (Dataset, VolumeList)):
        return f"inputBase: a {kind} is neither a DICOM tree (Dataset) nor a volume list"
    if name == "inputModifierList":
        if not isinstance(value, (list, tuple)):
            return (f"inputModifierList: a {kind} is not a list of modifier plugins; it takes "
                    "a modifier plugin's output")
        for index, plugin in enumerate(value):
            if not _is_plugin(plugin):
                return (f"inputModifierList: item {index} is a {type(plugin).__name__}, not a "
                        "modifier plugin (one with a name and apply(dataset))")
    return None


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
