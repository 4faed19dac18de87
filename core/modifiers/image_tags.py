"""DicomModifyImageTagsPlugin: the grid's and the referenced images' attributes by keyword.

The original documentation only names this plugin. Here it edits the attributes that
describe the deformation grid and the images it refers to, by keyword, without spelling the
sequence paths where they live:

- grid geometry, in each Deformable Registration Grid Sequence item:
  ``ImagePositionPatient`` (3 numbers, mm), ``ImageOrientationPatient`` (6 numbers),
  ``GridResolution`` (3 numbers, mm);
- registration, in each Deformable Registration Sequence item:
  ``SourceFrameOfReferenceUID``, ``FrameOfReferenceTransformationComment``;
- referenced images, in each Referenced Image Sequence item: ``ReferencedSOPClassUID``,
  ``ReferencedSOPInstanceUID``, ``ReferencedFrameNumber``, ``ReferencedSegmentNumber``.

Configuration: ``set``, a mapping keyword -> value; ``item``, the Deformable Registration
Sequence item to edit (an index from 0, or ``"*"``, the default, for every item);
``reference``, likewise for the Referenced Image Sequence items. Grid Dimensions and Vector
Grid Data are refused (they are the data itself), and so is setting one
``ReferencedSOPInstanceUID`` on several references at once. The checks run after the plugin,
so a value that breaks the object (a non-unit orientation, say) stops the save.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset

from dicomreg.core.modifiers.base import ModifierError, ModifierPlugin, parse_tag
from dicomreg.core.modifiers.subtree_selector import select_items

__all__ = ["DicomModifyImageTagsPlugin"]

_WHERE = {
    "ImagePositionPatient": "DeformableRegistrationGridSequence[*]",
    "ImageOrientationPatient": "DeformableRegistrationGridSequence[*]",
    "GridResolution": "DeformableRegistrationGridSequence[*]",
    "SourceFrameOfReferenceUID": "",
    "FrameOfReferenceTransformationComment": "",
    "ReferencedSOPClassUID": "ReferencedImageSequence[{reference}]",
    "ReferencedSOPInstanceUID": "ReferencedImageSequence[{reference}]",
    "ReferencedFrameNumber": "ReferencedImageSequence[{reference}]",
    "ReferencedSegmentNumber": "ReferencedImageSequence[{reference}]",
}
_DATA = ("GridDimensions", "VectorGridData")


def _index(value: Any, name: str) -> str:
    if value == "*" or (isinstance(value, int) and value >= 0):
        return str(value)
    raise ValueError(f"'{name}' must be an index from 0 or '*', not {value!r}")


class DicomModifyImageTagsPlugin(ModifierPlugin):
    """Sets grid and referenced-image attributes by keyword; see the module documentation."""

    kind: ClassVar[str] = "DicomModifyImageTagsPlugin"

    def __init__(self, set: dict[str, Any] | None = None, item: int | str = "*",
                 reference: int | str = "*", name: str | None = None) -> None:
        super().__init__(name=name, set=dict(set or {}), item=item, reference=reference)

    def validate(self) -> None:
        for key in self.config["set"]:
            if key in _DATA:
                raise self._error(f"{key} is the data itself and cannot be set")
            if key not in _WHERE:
                raise self._error(f"{key!r} is not one of {', '.join(_WHERE)}")
        try:
            _index(self.config["item"], "item")
            _index(self.config["reference"], "reference")
        except ValueError as error:
            raise self._error(str(error)) from None

    def apply(self, ds: Dataset) -> None:
        item = _index(self.config["item"], "item")
        reference = _index(self.config["reference"], "reference")
        for keyword, value in self.config["set"].items():
            path = f"DeformableRegistrationSequence[{item}]"
            inner = _WHERE[keyword].format(reference=reference)
            targets = select_items(ds, f"{path} > {inner}" if inner else path)
            if not targets:
                raise ModifierError(f"no {inner.split('[')[0] or 'registration'} item to set "
                                    f"{keyword} in")
            if keyword == "ReferencedSOPInstanceUID" and len(targets) > 1:
                raise ModifierError("one ReferencedSOPInstanceUID for several references; "
                                    "choose one with 'reference'")
            tag = parse_tag(keyword, "set")
            for target in targets:
                target.add_new(tag, dictionary_VR(tag), value)
