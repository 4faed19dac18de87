"""Compose: field values + the ``input0`` field -> a complete Deformable Spatial Registration.

A pure step: it reads the field values (typed, as the module holds them) and the image, and
returns a pydicom Dataset with every mandatory module of the IOD (PS3.3 A.39). It writes
nothing and decides nothing that the checks have not already accepted; the Vector Grid Data
value is a view of the field's array (see :mod:`.vector_grid`), not a copy.

Each top-level attribute is the field whose ``tag`` names it in the field table, converted
where :data:`~dicomreg.core.fields.TO_ATTRIBUTE` says (birth date, sex, laterality); an empty
value of an optional (Type 3) attribute is left out, as the standard's tables say (but
Content Creator's Name, Type 2 in older editions, is written empty).
"""

from __future__ import annotations

import copy
import datetime
from collections import defaultdict
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import DeformableSpatialRegistrationStorage, ExplicitVRLittleEndian, generate_uid

from dicomreg.core.dicom import iod_requirements
from dicomreg.core.distribution import distribution_name, package_version
from dicomreg.core.fields import FIELDS, TO_ATTRIBUTE
from dicomreg.core.image import Image
from dicomreg.core.reg.common_instance_reference import common_instance_reference
from dicomreg.core.reg.deformable_registration import deformable_registration_sequence

__all__ = ["IMPLEMENTATION_CLASS_UID", "compose"]

# A fixed UID naming this implementation, derived under pydicom's root from our name.
IMPLEMENTATION_CLASS_UID = generate_uid(entropy_srcs=[f"{distribution_name()} implementation"])
# The fields of these groups are written inside their sequences, by .deformable_registration
# and .common_instance_reference; every other field with a tag is a top-level attribute.
_NESTED_GROUPS = ("registration", "referenced images", "common instance reference")
_TOP_LEVEL_FIELDS = tuple(f for f in FIELDS if f.tag and f.group not in _NESTED_GROUPS)
# Number strings: pydicom reads an empty one as None, so an empty one is written as None.
_NUMBER_VRS = ("IS", "DS")
# Type 3 now, but Type 2 in older editions of the Content Identification Macro (and in
# pydicomrt 0.9.1's IOD check): written empty when unknown, which satisfies both.
_WRITTEN_EMPTY = frozenset({"ContentCreatorName"})



@cache
def _optional_keywords() -> frozenset[str]:
    """Top-level attributes that are Type 3 in every module of the IOD that has them."""
    types: dict[str, set[str]] = defaultdict(set)
    for requirement in iod_requirements():
        if not requirement.path:
            types[requirement.keyword].add(requirement.type)
    return frozenset(keyword for keyword, kinds in types.items() if kinds == {"3"})


def _write_fields(ds: Dataset, values: Mapping[str, Any], when_empty: Mapping[str, str]) -> None:
    """Every top-level field at the table's tag: converted where :data:`TO_ATTRIBUTE` says,
    an empty value replaced by ``when_empty``'s, an empty Type 3 one left out (optional)."""
    optional = _optional_keywords()
    for f in _TOP_LEVEL_FIELDS:
        convert = TO_ATTRIBUTE.get(f.name)
        value = convert(values) if convert else (values[f.name] or when_empty.get(f.name, ""))
        if value is None or (value == "" and f.tag in optional and f.tag not in _WRITTEN_EMPTY):
            continue
        setattr(ds, f.tag, None if value == "" and f.vr in _NUMBER_VRS else value)


def _is_ascii(ds: Dataset) -> bool:
    for element in ds.iterall():
        value = element.value
        if isinstance(value, str) and not value.isascii():
            return False
        if element.VR == "PN" and value is not None and not str(value).isascii():
            return False
    return True


def compose(
    values: Mapping[str, Any],
    image: Image,
    *,
    now: datetime.datetime | None = None,
    sop_instance_uid: str | None = None,
    other_tags: Dataset | None = None,
) -> Dataset:
    """Compose the REG Dataset (with file meta) from typed field values and the field image.

    Parameters
    ----------
    values
        Field name -> typed value, for every field of :data:`~.fields.FIELDS`. Study and
        Series Instance UIDs must already be set (the module creates them on save).
    image
        The displacement field (``input0``): (Z, Y, X, 3) vectors with a geometry.
    now
        The time of composing (Content/Instance Creation Date and Time when not set).
    sop_instance_uid
        The new instance's UID; a new one is generated when not given.
    other_tags
        The source's other attributes (see :func:`~.inherit.other_input_tags`), added where
        the REG has none of its own when ``copyOtherInputTags`` is on.
    """
    now = now or datetime.datetime.now()
    today, time_now = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    uid = sop_instance_uid or generate_uid()
    ds = Dataset()

    # SOP Common and General Series: what every REG has
    ds.InstanceCreationDate, ds.InstanceCreationTime = today, time_now
    ds.SOPClassUID = DeformableSpatialRegistrationStorage
    ds.SOPInstanceUID = uid
    ds.Modality = "REG"
    # Patient, General Study, General Series, Frame of Reference, (Enhanced) General
    # Equipment and the Deformable Spatial Registration's content: the fields.
    _write_fields(ds, values, {"contentDate": today, "contentTime": time_now,
                               "softwareVersions": package_version()})
    ds.DeformableRegistrationSequence = deformable_registration_sequence(values, image)
    # Common Instance Reference
    ds.update(common_instance_reference(values))
    if values["copyOtherInputTags"] and other_tags is not None:
        for element in other_tags:
            if element.tag not in ds:
                ds.add(copy.deepcopy(element))

    if not _is_ascii(ds):
        ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8, for names beyond ASCII

    ds.file_meta = _file_meta(uid)
    return ds


def _file_meta(uid: str) -> FileMetaDataset:
    """The File Meta Information of the REG instance ``uid``, its group length included."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DeformableSpatialRegistrationStorage
    meta.MediaStorageSOPInstanceUID = uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = ("DICOMREG_" + package_version())[:16]
    meta.FileMetaInformationVersion = b"\x00\x01"
    # pydicom's own meta writer computes the group length; done here, the dataset (and its
    # tag dump) holds exactly what the file will.
    write_file_meta_info(DicomBytesIO(), meta, enforce_standard=True)
    return meta
