"""Modifier plugins: changes applied to the final dataset just before it is checked and
written (the ``inputModifierList`` connector of DicomREGSave).

A chain is a list of plugins, run in order. As plain data (what a flow saves and what
``dicomreg save --modifiers FILE.json`` reads) it is a JSON list of objects, each with a
``plugin`` key naming the plugin, an optional ``name``, and the plugin's own keys::

    [
      {"plugin": "DicomModifyTagsPlugin", "name": "de-identify",
       "operations": [{"op": "remove_private"},
                      {"op": "set", "tag": "PatientID", "value": "ANON-0001"}]},
      {"plugin": "DicomModifyImageTagsPlugin",
       "set": {"FrameOfReferenceTransformationComment": "checked by J. Doe"}}
    ]
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dicomreg.core.input import require_regular_file
from dicomreg.core.modifiers.base import (
    PLUGINS,
    ModifierConfigError,
    ModifierError,
    ModifierPlugin,
    plugin_from_data,
)
from dicomreg.core.modifiers.image_tags import DicomModifyImageTagsPlugin
from dicomreg.core.modifiers.modify_tags import DicomModifyTagsPlugin
from dicomreg.core.modifiers.subtree_selector import DicomModifySubTreeSelectorPlugin

__all__ = [
    "PLUGINS",
    "DicomModifyImageTagsPlugin",
    "DicomModifySubTreeSelectorPlugin",
    "DicomModifyTagsPlugin",
    "ModifierConfigError",
    "ModifierError",
    "ModifierPlugin",
    "chain_from_data",
    "chain_to_data",
    "load_chain",
    "plugin_from_data",
    "plugin_to_data",
]

MAX_PLUGINS = 1000
MAX_FILE_BYTES = 16 << 20


def plugin_to_data(plugin: ModifierPlugin) -> dict[str, Any]:
    """A plugin's plain data."""
    return plugin.to_data()


def chain_from_data(data: Any) -> list[ModifierPlugin]:
    """A chain from its plain data (a list of plugin objects)."""
    if not isinstance(data, list):
        raise ModifierConfigError("a modifier chain is a JSON list of plugin objects")
    if len(data) > MAX_PLUGINS:
        raise ModifierConfigError(f"a modifier chain of {len(data)} plugins; at most "
                                  f"{MAX_PLUGINS} are accepted (each runs the REG's checks)")
    return [plugin_from_data(item) for item in data]


def chain_to_data(chain: list[ModifierPlugin]) -> list[dict[str, Any]]:
    """A chain's plain data."""
    return [plugin_to_data(p) for p in chain]


def load_chain(path: str | os.PathLike[str]) -> list[ModifierPlugin]:
    """A chain from a JSON file."""
    path = Path(path)
    if not path.exists():
        raise ModifierConfigError(f"modifiers file '{path}' does not exist")
    require_regular_file(path, "modifiers file")  # a FIFO or /dev/zero would never end
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ModifierConfigError(f"modifiers file '{path}' has {path.stat().st_size} bytes; "
                                  f"at most {MAX_FILE_BYTES} are accepted")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise ModifierConfigError(f"modifiers file '{path}' is not UTF-8 text (byte "
                                  f"{error.start}); expected a UTF-8 JSON file") from None
    except json.JSONDecodeError as error:
        raise ModifierConfigError(f"modifiers file '{path}' is not JSON ({error})") from None
    except RecursionError:
        raise ModifierConfigError(f"modifiers file '{path}' nests its JSON too deeply; "
                                  "expected a list of plugin objects") from None
    return chain_from_data(data)
