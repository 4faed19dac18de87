"""The Common Instance Reference Module (C.12.2).

Every instance the REG references is listed here: those of the REG's own study in the
Referenced Series Sequence (0008,1115), one item per series; those of other studies in the
Studies Containing Other Referenced Instances Sequence (0008,1200), one item per study, each
with its series.

The module's fields were made for one series of each kind. They hold several as follows:
the Series (and Study) Instance UID fields hold one UID per line, and the class and instance
UID fields hold one group of lines per series, groups separated by an empty line, in the same
order. With a single series there is no empty line: exactly the original's format.
:func:`reference_fields` fills the fields from the referenced instances and the REG's Study
Instance UID; :func:`common_instance_reference` turns the fields into the two sequences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from dicomreg.core.errors import DicomRegError
from dicomreg.core.fields import uid_groups, uid_lines

__all__ = [
    "InstanceReference",
    "ReferenceFieldsError",
    "common_instance_reference",
    "reference_fields",
    "series_groups",
]


@dataclass(frozen=True)
class InstanceReference:
    """One referenced instance, the series and study it belongs to, and its frame count."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    number_of_frames: int = 1
    number_of_segments: int | None = None  # a segmentation's; None: not known or not one


class ReferenceFieldsError(DicomRegError):
    """Common Instance Reference fields that do not fit together; the message says how."""


def _ordered_groups(refs: list[InstanceReference], key: Any) -> dict[Any, list[InstanceReference]]:
    groups: dict[Any, list[InstanceReference]] = {}
    for ref in refs:
        groups.setdefault(key(ref), []).append(ref)
    return groups


def reference_fields(references: list[InstanceReference], study_uid: str) -> dict[str, str]:
    """The Common Instance Reference field values for ``references`` seen from ``study_uid``."""
    same = _ordered_groups([r for r in references if r.study_instance_uid == study_uid],
                           lambda r: r.series_instance_uid)
    other = _ordered_groups([r for r in references if r.study_instance_uid != study_uid],
                            lambda r: (r.study_instance_uid, r.series_instance_uid))

    def joined(groups: dict[Any, list[InstanceReference]], attribute: str) -> str:
        return "\n\n".join("\n".join(getattr(r, attribute) for r in refs)
                           for refs in groups.values())

    return {
        "referencedSeriesSeriesInstanceUID": "\n".join(same),
        "referencedSeriesReferencedSOPClassUIDs": joined(same, "sop_class_uid"),
        "referencedSeriesReferencedSOPInstanceUIDs": joined(same, "sop_instance_uid"),
        "commonInstanceReferenceStudyInstanceUID": "\n".join(study for study, _ in other),
        "referencedStudiesSeriesInstanceUID": "\n".join(series for _, series in other),
        "referencedStudiesReferencedSOPClassUIDs": joined(other, "sop_class_uid"),
        "referencedStudiesReferencedSOPInstanceUIDs": joined(other, "sop_instance_uid"),
    }


def series_groups(values: Mapping[str, Any], kind: str) -> list[tuple[str, str, list[str],
                                                                      list[str]]]:
    """(study UID, series UID, class UIDs, instance UIDs) per series of one kind.

    ``kind`` is "referencedSeries" (the REG's own study; study UID empty) or
    "referencedStudies" (other studies).

    Raises
    ------
    ReferenceFieldsError
        If the fields' lines and groups do not correspond one to one.
    """
    series = uid_lines(values[f"{kind}SeriesInstanceUID"])
    classes = uid_groups(values[f"{kind}ReferencedSOPClassUIDs"])
    instances = uid_groups(values[f"{kind}ReferencedSOPInstanceUIDs"])
    if kind == "referencedStudies":
        studies = uid_lines(values["commonInstanceReferenceStudyInstanceUID"])
        if len(studies) != len(series):
            raise ReferenceFieldsError(
                f"commonInstanceReferenceStudyInstanceUID: {len(studies)} study UID(s) for "
                f"{len(series)} series in referencedStudiesSeriesInstanceUID; give one study "
                "UID per series, line by line")
    else:
        studies = [""] * len(series)
    name = f"{kind}ReferencedSOPInstanceUIDs"
    if len(instances) != len(series) or len(classes) != len(series):
        raise ReferenceFieldsError(
            f"{name}: {len(instances)} group(s) of instance UIDs and {len(classes)} of class "
            f"UIDs for {len(series)} series; give one group per series, groups separated by "
            "an empty line")
    for index, (class_group, instance_group) in enumerate(zip(classes, instances,
                                                              strict=True), 1):
        if len(class_group) != len(instance_group):
            raise ReferenceFieldsError(
                f"{name}: series {index} lists {len(instance_group)} instance UID(s) but "
                f"{len(class_group)} class UID(s); give one class UID per instance UID")
    return list(zip(studies, series, classes, instances, strict=True))


def _series_item(series_uid: str, classes: list[str], instances: list[str]) -> Dataset:
    item = Dataset()
    item.ReferencedInstanceSequence = []
    for class_uid, instance_uid in zip(classes, instances, strict=True):
        ref = Dataset()
        ref.ReferencedSOPClassUID = class_uid
        ref.ReferencedSOPInstanceUID = instance_uid
        item.ReferencedInstanceSequence.append(ref)
    item.SeriesInstanceUID = series_uid
    return item


def common_instance_reference(values: Mapping[str, Any]) -> Dataset:
    """The module's attributes (possibly none) as a Dataset to merge into the REG."""
    out = Dataset()
    own = series_groups(values, "referencedSeries")
    if own:
        out.ReferencedSeriesSequence = [_series_item(series, classes, instances)
                                        for _study, series, classes, instances in own]
    studies: dict[str, Dataset] = {}
    for study, series, classes, instances in series_groups(values, "referencedStudies"):
        if study not in studies:
            studies[study] = Dataset()
            studies[study].ReferencedSeriesSequence = []
            studies[study].StudyInstanceUID = study
        studies[study].ReferencedSeriesSequence.append(_series_item(series, classes, instances))
    if studies:
        out.StudiesContainingOtherReferencedInstancesSequence = list(studies.values())
    return out
