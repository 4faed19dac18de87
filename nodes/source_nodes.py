"""Source nodes: what feeds DicomREGSave's connectors, read from files.

- **DicomImport** (the original's DirectDicomImport): a directory scanned into a volume list
  (for ``inputBase``) and the selected volume as an image with its DICOM (for ``input0`` or
  ``input1``);
- **DicomFile**: one DICOM file as a DICOM tree (for ``inputBase``);
- **DisplacementField**: a field image or an ITK transform file as the deformation (for
  ``input0``: the field and a transform's matrices), loaded as ``dicomreg save`` loads it, in
  any of its conventions; connect the fixed image to give the field its DICOM, and the grid
  that push fields and B-splines need;
- **RegLoad**: a REG file's grid as an image, and its header as a DICOM tree;
- **TagDump**: the tag dump of a DICOM tree.

Paths are relative to the flow file's directory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ryven.node_env import Data, NodeInputType, NodeOutputType

from dicomreg.core.deformation import (
    ITK_CONVENTION,
    FieldConvention,
    load_deformation,
    read_displacement_field,
)
from dicomreg.core.dicom import DumpOptions, read_dicom_headers, scan_volumes, tag_dump
from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import field_by_name, parse
from dicomreg.core.formats import TRANSFORM_SUFFIXES, file_suffix
from dicomreg.core.input import field_size_limit
from dicomreg.core.reg import read_deformable_registration

from .base import DicomNode
from .payloads import DatasetData, DeformationData, ImageData, VolumeListData

__all__ = ["DicomFileNode", "DicomImportNode", "DisplacementFieldNode", "RegLoadNode",
           "TagDumpNode", "ValueNode", "VolumeListSource"]


def _stamp(path: Path) -> tuple[str, float]:
    return str(path), path.stat().st_mtime if path.exists() else 0.0


class VolumeListSource(DicomNode):
    """A node that gives a volume list (for ``inputBase``) and its volume ``volumeIndex`` as
    an image with its DICOM (for ``input0`` or ``input1``), as DicomImport does."""

    init_outputs = [NodeOutputType("outputBase"), NodeOutputType("image"),
                    NodeOutputType("status")]
    status_output = 2

    def offer(self, volumes: Any) -> Any:
        """Put ``volumes`` and the selected volume's image on the outputs; the volume."""
        volume = volumes.select(int(self.settings["volumeIndex"]), "volumeIndex")
        self.set_output_val(0, VolumeListData(volumes))
        self.set_output_val(1, ImageData(volume.image()))
        return volume


class DicomImportNode(VolumeListSource):
    """A directory of DICOM files as a volume list and one of its volumes."""

    title = "DicomImport"
    defaults = {"directory": "", "volumeIndex": 0}
    _scanned: tuple[tuple[str, float], Any] | None = None

    def prepare(self, progress: Callable[[float], bool] | None = None) -> None:
        """Scan the directory (the slow part), for update_event to use; the editor runs
        this off the GUI thread, with progress and cancel."""
        if not self.settings["directory"]:
            raise DicomRegError("no directory is set")
        path = self.resolve(self.settings["directory"])
        if self._scanned is None or self._scanned[0] != _stamp(path):
            self._scanned = (_stamp(path), scan_volumes(path, progress))

    def update_event(self, inp: int = -1) -> None:
        def read() -> None:
            self.prepare()
            assert self._scanned is not None
            volumes = self._scanned[1]
            volume = self.offer(volumes)
            self.report("; ".join([f"{len(volumes)} volume(s); volume "
                                   f"{self.settings['volumeIndex']}: {volume.describe()}",
                                   *volumes.notes()]))

        self.guarded(read)


class ValueNode(DicomNode):
    """A text typed in its settings, on its output: wired to a field DicomREGSave shows as
    an input, it sets that field as ``--set`` does."""

    title = "Value"
    tags = ["value", "text", "field"]
    init_outputs = [NodeOutputType("value")]
    defaults = {"value": ""}

    def update_event(self, inp: int = -1) -> None:
        self.set_output_val(0, Data(str(self.settings["value"])))
        self.report(f"value: {self.settings['value']!r}")


class DicomFileNode(DicomNode):
    """One DICOM file's header as a DICOM tree."""

    title = "DicomFile"
    init_outputs = [NodeOutputType("outputBase"), NodeOutputType("status")]
    status_output = 1
    defaults = {"fileName": ""}

    def update_event(self, inp: int = -1) -> None:
        def read() -> None:
            path = self.resolve(self.settings["fileName"])
            ds = read_dicom_headers(path) if path.is_file() else None
            if ds is None:
                raise DicomRegError(f"fileName: '{path}' is not a DICOM file")
            self.set_output_val(0, DatasetData(ds))
            self.report(f"{ds.get('Modality', '?')} {ds.get('SOPInstanceUID', '')}")

        self.guarded(read)


class DisplacementFieldNode(DicomNode):
    """A displacement field (or an ITK transform file) as the deformation for input0.

    The file is loaded as ``dicomreg save`` loads it
    (:func:`~dicomreg.core.deformation.load_deformation`): the field in the REG's convention,
    and a transform's matrices, which DicomREGSave takes into its pre/post-deformation
    fields. A field file is read once per path and modification time (``prepare``, which the
    editor runs off the GUI thread); the conventions are applied on each update. The
    ``maxFieldSize`` setting is ``--max-field-size`` for this node's reads (empty: the
    default).
    """

    title = "DisplacementField"
    init_inputs = [NodeInputType("fixed")]
    init_outputs = [NodeOutputType("image"), NodeOutputType("status")]
    status_output = 1
    defaults = {"fileName": "", **ITK_CONVENTION, "maxFieldSize": ""}
    image = None  # the field last read, for the editor's preview
    _read: tuple[tuple[str, float, str], Any] | None = None

    def prepare(self, progress: Callable[[float], bool] | None = None) -> None:
        """Read a field file (the slow part, for a compressed one) for update_event."""
        path = self.resolve(self.settings["fileName"])
        if file_suffix(path) in TRANSFORM_SUFFIXES:
            return  # sampled on the fixed grid at each update, which needs the input
        stamp = (*_stamp(path), self.settings["maxFieldSize"])  # a new limit reads again
        if self._read is None or self._read[0] != stamp:
            with field_size_limit(self.settings["maxFieldSize"], "maxFieldSize"):
                self._read = (stamp, read_displacement_field(path))

    def update_event(self, inp: int = -1) -> None:
        def read() -> None:
            path = self.resolve(self.settings["fileName"])
            fixed = self.payload(0)
            self.prepare()
            with field_size_limit(self.settings["maxFieldSize"], "maxFieldSize"):
                loaded = load_deformation(
                    path, FieldConvention(**{k: self.settings[k] for k in ITK_CONVENTION}),
                    fixed.geometry if fixed is not None else None,
                    field=self._read[1] if self._read and self._read[0][0] == str(path)
                    else None)
            if fixed is not None:
                # The field lives on the fixed image: it carries the fixed image's DICOM.
                loaded.image.datasets = fixed.datasets
            self.image = loaded.image
            self.set_output_val(0, DeformationData(loaded))
            self.report("; ".join([loaded.image.describe(), *loaded.notes]))

        self.guarded(read)


class RegLoadNode(DicomNode):
    """A REG file: its grid as an image, its header as a DICOM tree."""

    title = "RegLoad"
    init_outputs = [NodeOutputType("image"), NodeOutputType("outputBase"),
                    NodeOutputType("status")]
    status_output = 2
    defaults = {"fileName": ""}
    image = None  # the grid last read, for the editor's preview

    def update_event(self, inp: int = -1) -> None:
        def read() -> None:
            registration = read_deformable_registration(self.resolve(self.settings["fileName"]))
            grid = registration.deformable_item.grid
            self.image = grid
            self.set_output_val(0, ImageData(grid))
            self.set_output_val(1, DatasetData(registration.dataset))
            self.report(f"{len(registration.items)} item(s); grid {grid.describe()}")

        self.guarded(read)


class TagDumpNode(DicomNode):
    """The tag dump of a DICOM tree, with the module's dump options."""

    title = "TagDump"
    init_inputs = [NodeInputType("inputBase")]
    init_outputs = [NodeOutputType("tagDump"), NodeOutputType("status")]
    status_output = 1
    defaults = DumpOptions().to_values()
    dump = ""

    def set_setting(self, name: str, value: Any) -> None:
        if name in self.defaults:  # each setting is the module's field of that name
            value = parse(field_by_name(name), value)
        super().set_setting(name, value)

    def update_event(self, inp: int = -1) -> None:
        def dump() -> None:
            ds = self.payload(0)
            if ds is None:
                raise DicomRegError("inputBase: no DICOM tree is connected")
            text = tag_dump(ds, DumpOptions.from_values(self.settings))
            self.dump = text
            self.set_output_val(0, Data(text))
            self.report(f"{text.count(chr(10)) + 1} line(s)")

        self.guarded(dump)
