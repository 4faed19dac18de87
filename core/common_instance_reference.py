"""The Common Instance Reference Module (C.12.2).

Every instance the REG references is listed here: those of the REG's own study in the
Referenced Series Sequence (0008,1115), those of other studies in the Studies Containing
Other Referenced Instances Sequence (0008,1200). The module's fields hold one series of each
kind; :func:`reference_fields` fills them from the referenced instances and the REG's Study
Instance UID, :func:`common_instance_reference` turns them into the two sequences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from .deformable_registration import uid_lines
from .errors import DicomRegError

__all__ = ["InstanceReference", "common_instance_reference", "reference_fields"]


@dataclass(frozen=True)
class InstanceReference:
    """One referenced instance and the series and study it belongs to."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str


class ReferenceFieldsError(DicomRegError):
    """References that the module's fields cannot hold; the message says why."""


def reference_fields(references: list[InstanceReference], study_uid: str) -> dict[str, str]:
    """The Common Instance Reference field values for ``references`` seen from ``study_uid``."""
    same = [r for r in references if r.study_instance_uid == study_uid]
    other = [r for r in references if r.study_instance_uid != study_uid]
    for kind, group in (("this study", same), ("other studies", other)):
        series = {r.series_instance_uid for r in group}
        studies = {r.study_instance_uid for r in group}
        if len(series) > 1 or len(studies) > 1:
            raise ReferenceFieldsError(
                f"the referenced instances lie in {len(series)} series of {kind}; the "
                "Common Instance Reference fields hold one series of each kind"
            )
    return {
        "referencedSeriesSeriesInstanceUID": same[0].series_instance_uid if same else "",
        "referencedSeriesReferencedSOPClassUIDs": "\n".join(r.sop_class_uid for r in same),
        "referencedSeriesReferencedSOPInstanceUIDs": "\n".join(r.sop_instance_uid for r in same),
        "commonInstanceReferenceStudyInstanceUID": other[0].study_instance_uid if other else "",
        "referencedStudiesSeriesInstanceUID": other[0].series_instance_uid if other else "",
        "referencedStudiesReferencedSOPClassUIDs": "\n".join(r.sop_class_uid for r in other),
        "referencedStudiesReferencedSOPInstanceUIDs": "\n".join(
            r.sop_instance_uid for r in other
        ),
    }


def _series_item(series_uid: str, classes: str, instances: str) -> Dataset:
    item = Dataset()
    item.ReferencedInstanceSequence = []
    for class_uid, instance_uid in zip(uid_lines(classes), uid_lines(instances), strict=False):
        ref = Dataset()
        ref.ReferencedSOPClassUID = class_uid
        ref.ReferencedSOPInstanceUID = instance_uid
        item.ReferencedInstanceSequence.append(ref)
    item.SeriesInstanceUID = series_uid
    return item


def common_instance_reference(values: Mapping[str, Any]) -> Dataset:
    """The module's attributes (possibly none) as a Dataset to merge into the REG."""
    out = Dataset()
    if values["referencedSeriesSeriesInstanceUID"]:
        out.ReferencedSeriesSequence = [
            _series_item(values["referencedSeriesSeriesInstanceUID"],
                         values["referencedSeriesReferencedSOPClassUIDs"],
                         values["referencedSeriesReferencedSOPInstanceUIDs"])
        ]
    if values["commonInstanceReferenceStudyInstanceUID"]:
        study = Dataset()
        study.ReferencedSeriesSequence = [
            _series_item(values["referencedStudiesSeriesInstanceUID"],
                         values["referencedStudiesReferencedSOPClassUIDs"],
                         values["referencedStudiesReferencedSOPInstanceUIDs"])
        ]
        study.StudyInstanceUID = values["commonInstanceReferenceStudyInstanceUID"]
        out.StudiesContainingOtherReferencedInstancesSequence = [study]
    return out
