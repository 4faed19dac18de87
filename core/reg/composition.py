"""Compose: field values + the ``input0`` field -> a complete Deformable Spatial Registration.

A pure step: it reads the field values (typed, as the module holds them) and the image, and
returns a pydicom Dataset with every mandatory module of the IOD (PS3.3 A.39). It writes
nothing and decides nothing that the checks have not already accepted; the Vector Grid Data
value is a view of the field's array (see :mod:`.vector_grid`), not a copy.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Mapping
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from dicomreg.core.distribution import distribution_name, package_version
from dicomreg.core.fields import USER_DEFINED, FieldValueError, validate_dicom_text
from dicomreg.core.image import Image
from dicomreg.core.reg.common_instance_reference import common_instance_reference
from dicomreg.core.reg.deformable_registration import deformable_registration_sequence

__all__ = [
    "DEFORMABLE_SPATIAL_REGISTRATION_STORAGE",
    "IMPLEMENTATION_CLASS_UID",
    "compose",
    "patient_birth_date",
    "patient_sex",
]

DEFORMABLE_SPATIAL_REGISTRATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.3"
# A fixed UID naming this implementation, derived under pydicom's root from our name.
IMPLEMENTATION_CLASS_UID = generate_uid(entropy_srcs=[f"{distribution_name()} implementation"])
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip
_SEX_CODES = {"other": "O", "o": "O", "female": "F", "f": "F", "male": "M", "m": "M", "": ""}


def _month_number(text: str) -> str:
    """'03-March', 'March', 'mar', '3' and '03' all give '03'."""
    text = text.strip()
    if not text:
        return ""
    head = text.split("-", 1)[0].strip()
    if head.isdigit() and 1 <= int(head) <= 12:
        return f"{int(head):02d}"
    name = text.split("-", 1)[-1].strip().lower()
    for number, month in enumerate(_MONTHS, 1):
        if len(name) >= 3 and month.startswith(name):
            return f"{number:02d}"
    raise FieldValueError("patientBirthDateMonthString",
                          f"{text!r} is not a month; expected 01-12, 'March' or '03-March'")


def patient_birth_date(values: Mapping[str, Any]) -> str:
    """Patient's Birth Date (DA) from the year/month/day enums and strings ('' = unknown)."""

    def part(enum: str, string: str) -> str:
        chosen = values[string] if values[enum] == USER_DEFINED else values[enum]
        return str(chosen).strip()

    year = part("patientBirthDateYearEnum", "patientBirthDateYearString")
    month = _month_number(part("patientBirthDateMonthEnum", "patientBirthDateMonthString"))
    day = part("patientBirthDateDayEnum", "patientBirthDateDayString")
    if not (year or month or day):
        return ""
    if not (year and month and day):
        raise FieldValueError("patientBirthDateYearString",
                              f"birth date has year {year!r}, month {month!r}, day {day!r}: "
                              "give all three, or leave all three empty for unknown")
    if not (year.isdigit() and len(year) == 4):
        raise FieldValueError("patientBirthDateYearString", f"{year!r} is not a 4-digit year")
    if not day.isdigit():
        raise FieldValueError("patientBirthDateDayString", f"{day!r} is not a day number")
    date = f"{year}{month}{int(day):02d}"
    problem = validate_dicom_text("DA", date)
    if problem:
        raise FieldValueError("patientBirthDateDayString", problem)
    return date


def patient_sex(values: Mapping[str, Any]) -> str:
    """Patient's Sex (M, F, O or empty) from the sex enum and string."""
    chosen = values["patientSexEnum"]
    if chosen == USER_DEFINED:
        chosen = values["patientSexString"]
    code = _SEX_CODES.get(str(chosen).strip().lower())
    if code is None:
        raise FieldValueError("patientSexString",
                              f"{chosen!r} is not M, F, O (Male, Female, Other) or empty")
    return code


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

    # SOP Common
    ds.InstanceCreationDate, ds.InstanceCreationTime = today, time_now
    ds.SOPClassUID = DEFORMABLE_SPATIAL_REGISTRATION_STORAGE
    ds.SOPInstanceUID = uid
    # General Study
    ds.StudyDate, ds.StudyTime = values["studyDate"], values["studyTime"]
    ds.AccessionNumber = values["accessionNumber"]
    ds.ReferringPhysicianName = values["referringPhysicianName"]
    if values["studyDescription"]:
        ds.StudyDescription = values["studyDescription"]
    ds.StudyInstanceUID = values["studyInstanceUID"]
    ds.StudyID = values["studyUID"]  # the module's "Study UID" field is the Study ID
    # Patient
    ds.PatientName = values["patientsName"]
    ds.PatientID = values["patientID"]
    ds.PatientBirthDate = patient_birth_date(values)
    ds.PatientSex = patient_sex(values)
    # General Series + Spatial Registration Series
    ds.Modality = "REG"
    ds.SeriesInstanceUID = values["seriesInstanceUID"]
    ds.SeriesNumber = values["seriesNumber"] or None
    if values["seriesDescription"]:
        ds.SeriesDescription = values["seriesDescription"]
    if values["bodyPartExamined"]:
        ds.BodyPartExamined = values["bodyPartExamined"]
    laterality = values["laterality"]
    if laterality in ("L", "R"):
        ds.Laterality = laterality
    elif laterality == "WriteEmptyTagValue":
        ds.Laterality = ""
    # Frame of Reference: the registered (fixed) frame.
    ds.FrameOfReferenceUID = values["frameOfReferenceUID"]
    ds.PositionReferenceIndicator = values["positionReferenceIndicator"]
    # General Equipment + Enhanced General Equipment
    ds.Manufacturer = values["manufacturer"]
    ds.ManufacturerModelName = values["manufacturerModelName"]
    ds.DeviceSerialNumber = values["deviceSerialNumber"]
    ds.SoftwareVersions = values["softwareVersions"] or package_version()
    # Deformable Spatial Registration
    ds.ContentDate = values["contentDate"] or today
    ds.ContentTime = values["contentTime"] or time_now
    ds.InstanceNumber = values["instanceNumber"]
    ds.ContentLabel = values["contentLabel"]
    ds.ContentDescription = values["contentDescription"]
    if values["contentCreatorsName"]:
        ds.ContentCreatorName = values["contentCreatorsName"]
    ds.DeformableRegistrationSequence = deformable_registration_sequence(values, image)
    # Common Instance Reference
    ds.update(common_instance_reference(values))
    if values["copyOtherInputTags"] and other_tags is not None:
        for element in other_tags:
            if element.tag not in ds:
                ds.add(copy.deepcopy(element))

    if not _is_ascii(ds):
        ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8, for names beyond ASCII

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DEFORMABLE_SPATIAL_REGISTRATION_STORAGE
    meta.MediaStorageSOPInstanceUID = uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = ("DICOMREG_" + package_version())[:16]
    meta.FileMetaInformationVersion = b"\x00\x01"
    # pydicom's own meta writer computes the group length; done here, the dataset (and its
    # tag dump) holds exactly what the file will.
    write_file_meta_info(DicomBytesIO(), meta, enforce_standard=True)
    ds.file_meta = meta
    return ds
