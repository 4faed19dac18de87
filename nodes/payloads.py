"""What flows between the nodes: Data types that save a description, not the data.

Ryven pickles Data into a project file. A field or a DICOM tree there would bloat it and
tie it to one machine; a description is enough, since the source nodes read their files
again when a flow runs. The modifier chain is plain data and is saved whole.
"""

from __future__ import annotations

from typing import Any

from ryven.node_env import Data

__all__ = ["DatasetData", "DeformationData", "ImageData", "ModifierListData", "VolumeListData"]


class _Described(Data):
    """A payload saved as a short description; it is rebuilt by running the flow."""

    def get_data(self) -> dict[str, str]:
        return {"description": self.describe()}

    def set_data(self, data: Any) -> None:
        self.payload = None

    def describe(self) -> str:
        return type(self.payload).__name__ if self.payload is not None else "nothing"


def _image_text(image: Any) -> str:
    return f"{image.describe()} from {image.source}" if image.source else image.describe()


class ImageData(_Described):
    """An :class:`dicomreg.core.image.Image`: a field, or a DICOM image's headers."""

    def describe(self) -> str:
        return "no image" if self.payload is None else _image_text(self.payload)


class DeformationData(_Described):
    """A :class:`dicomreg.core.deformation.LoadedDeformation`: a field and, from a transform
    file, the matrices DicomREGSave takes into its pre/post-deformation fields."""

    def describe(self) -> str:
        return "no deformation" if self.payload is None else _image_text(self.payload.image)


class DatasetData(_Described):
    """A DICOM tree (pydicom Dataset)."""

    def describe(self) -> str:
        ds = self.payload
        if ds is None:
            return "no DICOM tree"
        modality, instance = ds.get("Modality", "?"), ds.get("SOPInstanceUID", "")
        return f"{modality} {ds.get('SOPClassUID', '')} {instance}"


class VolumeListData(_Described):
    """A volume list scanned from a directory."""

    def describe(self) -> str:
        volumes = self.payload
        return "no volumes" if volumes is None else f"{len(volumes)} volume(s) in {volumes.source}"


class ModifierListData(Data):
    """A chain of modifier plugins, saved as its plain data (the --modifiers JSON format)."""

    def get_data(self) -> list[dict[str, Any]]:
        from dicomreg.core.modifiers import chain_to_data

        return chain_to_data(self.payload or [])

    def set_data(self, data: Any) -> None:
        from dicomreg.core.modifiers import chain_from_data

        self.payload = chain_from_data(data or [])
