"""Inherit DICOM information: (source headers, options) -> new field values and a report.

A pure step: it never writes a file and never changes the module by itself. The module
applies the returned values and keeps the ones they replaced, so one step undoes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from dicomreg.core.dicom import SliceDatasets, body_part_is_paired
from dicomreg.core.fields import (
    FIELDS,
    FROM_ATTRIBUTE,
    field_by_name,
    format_value,
    inherited_laterality,
)
from dicomreg.core.image import Geometry, Image
from dicomreg.core.reg import InstanceReference, right_handed_grid

__all__ = ["InheritanceReport", "inherited_values", "instance_references", "other_input_tags",
           "other_patient_warning"]

# Fields copied as they are from the source attribute their table tag names. Handled apart:
# Study Instance UID (when the source has one), Series Number and equipment (by option),
# birth date and sex (FROM_ATTRIBUTE) and laterality; never inherited: the REG's own Series
# Instance UID, content and Instance Number.
_COPIED = (
    "patientsName", "patientID", "studyDate", "studyTime", "referringPhysicianName",
    "studyUID", "accessionNumber", "studyDescription", "seriesDescription",
    "frameOfReferenceUID", "positionReferenceIndicator", "bodyPartExamined",
)  # fmt: skip
_EQUIPMENT = ("manufacturer", "manufacturerModelName", "deviceSerialNumber", "softwareVersions")
# Attributes of a source image that would misdescribe a REG, never copied by
# copyOtherInputTags: its identity and class, its pixels and their description, its plane
# geometry, multi-frame and overlay structures, and references that are the image's own.
_NEVER_COPIED_KEYWORDS = {
    "SOPClassUID", "SOPInstanceUID", "Modality", "ImageType", "InstanceNumber",
    "ContentDate", "ContentTime", "InstanceCreationDate", "InstanceCreationTime",
    "ImagePositionPatient", "ImageOrientationPatient", "SliceLocation", "SliceThickness",
    "SpacingBetweenSlices", "NumberOfFrames", "FrameIncrementPointer",
    "PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence",
    "DimensionIndexSequence", "DimensionOrganizationSequence", "ReferencedImageSequence",
    "SourceImageSequence", "DerivationCodeSequence", "ReferencedSeriesSequence",
    "StudiesContainingOtherReferencedInstancesSequence", "FrameOfReferenceUID",
    "PositionReferenceIndicator", "SeriesInstanceUID", "StudyInstanceUID", "ContentLabel",
    "ContentDescription", "ContentCreatorName", "Laterality", "ImageLaterality",
    "SpecificCharacterSet", "LossyImageCompression", "LossyImageCompressionRatio",
    "LossyImageCompressionMethod", "BurnedInAnnotation", "PresentationLUTShape",
    "IrradiationEventUID", "AcquisitionNumber", "ImageComments",
}  # fmt: skip
# Whole groups: pixel description (0028), pixel data (7FE0), overlays (60xx) and curves (50xx).
_NEVER_COPIED_GROUPS = (0x0028, 0x7FE0)


@dataclass
class InheritanceReport:
    """What an inheritance changed (field -> (old, new)) and notes for the user."""

    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = []
        for name, (old, new) in self.changes.items():
            f = field_by_name(name)
            lines.append(f"{name}: {format_value(f, old)!r} -> {format_value(f, new)!r}")
        return "\n".join(lines + self.notes)


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _tag_text(ds: Dataset, name: str) -> str:
    """The source's value of the attribute the field ``name`` is written to."""
    return _text(ds, field_by_name(name).tag)


def _laterality(values: Mapping[str, Any], ds: Dataset) -> str:
    """The laterality enum for a source (see :func:`~dicomreg.core.fields.inherited_laterality`);
    whether its body part is paired is the standard's answer, looked up here."""
    body_part = _tag_text(ds, "bodyPartExamined")
    return inherited_laterality(
        (_tag_text(ds, "laterality"), _text(ds, "ImageLaterality")),
        paired=body_part_is_paired(body_part) if body_part else None,
        use_empty=values["useEmptyLateralityTagIfNotFoundOnInheritance"])


def _grid_fields(geometry: Geometry) -> dict[str, Any]:
    grid, _ = right_handed_grid(geometry)
    return {
        "imagePositionPatient": tuple(float(v) for v in grid.origin),
        "imageOrientationPatient": tuple(float(v) for v in grid.image_orientation_patient),
    }


def other_input_tags(source: Dataset) -> Dataset:
    """The source's attributes that copyOtherInputTags may copy: all but those that would
    misdescribe a REG (see ``_NEVER_COPIED_KEYWORDS`` and ``_NEVER_COPIED_GROUPS``)."""
    # Attributes that fields manage are the fields' business (a field left empty stays so).
    managed = {f.tag for f in FIELDS if f.tag}
    out = Dataset()
    for element in source:
        group = element.tag.group
        if (group in _NEVER_COPIED_GROUPS or group <= 0x0002 or 0x5000 <= group <= 0x60FF
                or element.keyword in _NEVER_COPIED_KEYWORDS or element.keyword in managed):
            continue
        out.add(element)
    return out


def inherited_values(
    values: Mapping[str, Any],
    source: Dataset,
    *,
    source_geometry: Geometry | None = None,
    image: Image | None = None,
    reference_image: Image | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The field values that inheriting from ``source`` gives, and notes for the user.

    Parameters
    ----------
    values
        The current typed field values (for the options that steer inheritance).
    source
        The DICOM header to inherit from (the first slice of a series).
    source_geometry
        The voxel grid the source's headers describe, for DICOM_INPUT.
    image
        The image at ``input0``, for its world matrix (IMAGE_INPUT).
    reference_image
        The image selected by ``inputConnectorSelector``, whose frame of reference is the
        source frame of the registration (IMAGE_INPUT of the source frame's enum).
    """
    new: dict[str, Any] = {}
    notes: list[str] = []
    for name in _COPIED:
        new[name] = _tag_text(source, name)
    if values["inheritEquipment"]:
        for name in _EQUIPMENT:
            if _tag_text(source, name):  # Type 1 in the REG: an empty source value is not taken
                new[name] = _tag_text(source, name)
    for name, fields_of in FROM_ATTRIBUTE.items():
        new.update(fields_of(_tag_text(source, name)))
    study_uid = _tag_text(source, "studyInstanceUID")
    if study_uid:
        new["studyInstanceUID"] = study_uid
        # The REG joins the source's study; a new study per file would split them.
        new["autoCreateStudyInstanceUID"] = False
    if values["inheritSeriesNumber"]:
        new["seriesNumber"] = _tag_text(source, "seriesNumber")
    new["laterality"] = _laterality(values, source)
    new.update(_world_matrix(values, source_geometry, image, notes))
    new.update(_source_frame(values, source, reference_image, notes))
    return new, notes


def _world_matrix(values: Mapping[str, Any], source_geometry: Geometry | None,
                  image: Image | None, notes: list[str]) -> dict[str, Any]:
    """Image Position and Orientation from the source ``worldMatrixInheritanceSource`` names,
    or a note saying why they were not inherited."""
    if values["worldMatrixInheritanceSource"] == "IMAGE_INPUT":
        if image is None or image.geometry is None:
            notes.append("imagePositionPatient/imageOrientationPatient not inherited: input0 "
                         "has no world matrix")
            return {}
        return _grid_fields(image.geometry)
    if source_geometry is None:
        notes.append("imagePositionPatient/imageOrientationPatient not inherited: the DICOM "
                     "source describes no image geometry")
        return {}
    return _grid_fields(source_geometry)


def _source_frame(values: Mapping[str, Any], source: Dataset, reference_image: Image | None,
                  notes: list[str]) -> dict[str, Any]:
    """The source frame of reference from the DICOM source or the referenced image, as
    ``sourceFrameOfReferenceUIDInheritanceSource`` says, or a note saying why not."""
    if values["sourceFrameOfReferenceUIDInheritanceSource"] == "DICOM_INPUT":
        return {"sourceFrameOfReferenceUID": _text(source, "FrameOfReferenceUID")}
    if reference_image is not None and reference_image.datasets:
        return {"sourceFrameOfReferenceUID": _text(reference_image.datasets[0],
                                                   "FrameOfReferenceUID")}
    notes.append(f"sourceFrameOfReferenceUID not inherited: "
                 f"{values['inputConnectorSelector']} has no DICOM image")
    return {}


# The segmentation classes (Segmentation, Surface Segmentation, Label Map Segmentation), whose
# segments a reference may name: their count is in the full header only.
_SEGMENTATION_CLASSES = "1.2.840.10008.5.1.4.1.1.66."


def _reference(ds: Dataset) -> InstanceReference:
    return InstanceReference(
        sop_class_uid=str(ds.SOPClassUID),
        sop_instance_uid=str(ds.SOPInstanceUID),
        series_instance_uid=_text(ds, "SeriesInstanceUID"),
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        number_of_frames=int(ds.get("NumberOfFrames") or 1),
        number_of_segments=len(ds.SegmentSequence) if "SegmentSequence" in ds else None,
    )


def instance_references(image: Image) -> list[InstanceReference]:
    """Every instance of an image's DICOM source, in slice order: a scanned series' from
    what the scan read of each slice (the same values; its full headers are not read)."""
    datasets = image.datasets
    if not isinstance(datasets, SliceDatasets):
        return [_reference(ds) for ds in datasets]
    return [
        _reference(datasets[index]) if header.sop_class_uid.startswith(_SEGMENTATION_CLASSES)
        else InstanceReference(
            sop_class_uid=header.sop_class_uid, sop_instance_uid=header.sop_instance_uid,
            series_instance_uid=header.series_instance_uid,
            study_instance_uid=header.study_instance_uid,
            number_of_frames=header.number_of_frames)
        for index, header in enumerate(datasets.headers)
    ]


def other_patient_warning(patient_id: str, image: Image) -> str | None:
    """A warning when ``image`` is of another patient than the REG's ``patient_id``.

    Registering one patient to another (an atlas, a template) is legitimate, so this is not
    refused; but a wrong moving series looks exactly like it, and the REG would then
    reference another patient's images. Nothing is said when either ID is empty.
    """
    if not image.datasets:
        return None
    theirs = str(image.datasets[0].get("PatientID", "")).strip()
    ours = str(patient_id).strip()
    if theirs and ours and theirs != ours:
        return (f"warning: the referenced image is of patient '{theirs}', the REG of "
                f"'{ours}' (an inter-patient registration?)")
    return None
