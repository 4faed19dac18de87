"""The field table of DicomREGSave: every field, declared once.

Names, titles, types, defaults, enum values and deprecated names are those of MeVisLab's
DicomREGSave documentation, so that its users find them. Everything else (the node's saved
state, the widgets' forms, the command line's ``--set``, the field reference in
``docs/fields.md``) is derived from :data:`FIELDS`.

Fields marked ``extension=True`` are ours: the documentation names two fields without a field
name (``tagDumpSize``, ``save``), has no field for the Type 1 Instance Number, and mentions a
status field without naming it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from dicomreg.core.distribution import distribution_name
from dicomreg.core.errors import DicomRegError

__all__ = [
    "FIELDS",
    "EnumValue",
    "Field",
    "FieldType",
    "GROUPS",
    "MONTHS",
    "SEX_CODES",
    "USER_DEFINED",
    "UnknownFieldError",
    "field_by_name",
]


class FieldType(StrEnum):
    """The field types of the module documentation."""

    STRING = "String"
    BOOL = "Bool"
    INTEGER = "Integer"
    ENUM = "Enum"
    VECTOR3 = "Vector3"
    VECTOR6 = "Vector6"
    MATRIX = "Matrix"
    TRIGGER = "Trigger"


@dataclass(frozen=True)
class EnumValue:
    """One value of an Enum field: its name (what is stored) and its title (what is shown)."""

    name: str
    title: str
    deprecated_names: tuple[str, ...] = ()
    description: str = ""
    #: other spellings the documentation accepts and translates ('March' and '03' for
    #: '03-March'); matched without regard to case, as titles are
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    """One field of the module.

    Parameters
    ----------
    name
        The field name, exactly as documented.
    title
        The title shown in a panel.
    type
        One of :class:`FieldType`.
    group
        The panel group (tab) the field belongs to; one of :data:`GROUPS`.
    default
        The default value in the field's text form, as the documentation writes it.
    description
        One paragraph: what the field means.
    deprecated_names
        Older names that are still accepted when setting or loading the field.
    persistent
        Whether the field is saved with a flow; non-persistent fields are outputs.
    enum_values
        The values of an Enum field.
    vr
        For String fields holding a DICOM value: the Value Representation its value must obey.
    multi_line
        For String fields holding one value per line (lists of UIDs).
    minimum
        For Integer fields: the smallest accepted value.
    max_length
        A length limit stricter than the VR's (Content Label, Series Number).
    tag
        The DICOM attribute written from this field, for the field reference.
    extension
        True for fields that the module documentation does not name.
    syntax
        For String fields with a grammar of their own: "regex" (the tag dump filter) or
        "print-list" (referenced frame and segment numbers).
    sensitive_when
        ``(field, values)``: the field has an effect (is sensitive, editable in a panel) only
        while ``field`` holds one of ``values``; None: always.
    follows
        For the String twin of an Enum (``patientSexString``): the enum's name. The string
        follows the enum unless the enum is User Defined, and may be set only then.
    deviation
        Where this project deviates from the module documentation for this field, and why.
    """

    name: str
    title: str
    type: FieldType
    group: str
    default: str = ""
    description: str = ""
    deprecated_names: tuple[str, ...] = ()
    persistent: bool = True
    enum_values: tuple[EnumValue, ...] = ()
    vr: str | None = None
    multi_line: bool = False
    minimum: int | None = None
    max_length: int | None = None
    tag: str = ""
    extension: bool = False
    syntax: str | None = None
    sensitive_when: tuple[str, tuple[str, ...]] | None = None
    follows: str | None = None
    deviation: str = ""

    def enum_value(self, text: str) -> EnumValue | None:
        """Return the enum value named, titled, formerly named or translated from ``text``.

        Names and deprecated names match exactly first; then titles and the documented
        translations (:attr:`EnumValue.aliases`), without regard to case. None: no match.
        """
        for value in self.enum_values:
            if text == value.name or text in value.deprecated_names:
                return value
        key = text.strip().casefold()
        for value in self.enum_values:
            if key in (value.title.casefold(), value.name.casefold(),
                       *(alias.casefold() for alias in value.aliases)):
                return value
        return None

    def is_sensitive(self, values: Mapping[str, Any]) -> bool:
        """Whether the field has an effect with these field values (see ``sensitive_when``)."""
        if self.sensitive_when is None:
            return True
        controller, states = self.sensitive_when
        return values.get(controller) in states


GROUPS = (
    "inheritance",
    "tag dump",
    "save",
    "patient",
    "study",
    "series",
    "frame of reference and equipment",
    "content",
    "registration",
    "referenced images",
    "common instance reference",
)

USER_DEFINED = "User Defined"


def _enum(*names: str | tuple[str, str] | EnumValue) -> tuple[EnumValue, ...]:
    """Enum values from names (title = name), (title, name) pairs or EnumValues."""
    out = []
    for item in names:
        if isinstance(item, EnumValue):
            out.append(item)
        elif isinstance(item, tuple):
            out.append(EnumValue(name=item[1], title=item[0]))
        else:
            out.append(EnumValue(name=item, title=item))
    return tuple(out)


# English, as the documentation writes them (not calendar.month_name: it follows the locale).
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# The Patient Sex enum's values and the codes they write (PS3.3 C.7.1.1).
SEX_CODES = {"Other": "O", "Female": "F", "Male": "M"}
_YEARS = _enum(*(str(year) for year in range(1900, 2101)), USER_DEFINED)
# '03-March' also answers to 'March', 'Mar', '03' and '3': the documentation's translations.
_MONTH_VALUES = (*(EnumValue(f"{i:02d}-{m}", f"{i:02d}-{m}",
                             aliases=(m, m[:3], f"{i:02d}", str(i)))
                   for i, m in enumerate(MONTHS, 1)), EnumValue(USER_DEFINED, USER_DEFINED))
_DAYS = (*(EnumValue(f"{day:02d}", f"{day:02d}", aliases=(str(day),)) for day in range(1, 32)),
         EnumValue(USER_DEFINED, USER_DEFINED))
# The sex enum also answers to the codes it writes (M, F, O), as its string does.
_SEXES = (*(EnumValue(title, title, aliases=(code,)) for title, code in SEX_CODES.items()),
          EnumValue(USER_DEFINED, USER_DEFINED))
_MATRIX_TYPES = _enum(("Rigid", "RIGID"), ("Rigid Scale", "RIGID_SCALE"), ("Affine", "AFFINE"))
_INHERITANCE_SOURCES = _enum(("Dicom Input", "DICOM_INPUT"), ("Image Input", "IMAGE_INPUT"))
_IDENTITY = "1 0 0 0, 0 1 0 0, 0 0 1 0, 0 0 0 1"

S, B, I, E = FieldType.STRING, FieldType.BOOL, FieldType.INTEGER, FieldType.ENUM  # noqa: E741
T = FieldType.TRIGGER

FIELDS: tuple[Field, ...] = (
    # --- inheritance input -------------------------------------------------------------------
    Field("unresolvedFileName", "File Name", S, "inheritance",
          deprecated_names=("unresolvedDcmInputFileName",),
          sensitive_when=("inputSelector", ("File",)),
          description="The DICOM file to inherit from when Input Selector is File; user home, "
          "environment variables and relative paths are resolved into True File Name."),
    Field("absoluteFileName", "True File Name", S, "inheritance", persistent=False,
          deprecated_names=("dcmInputFileName",),
          deviation="Read-only here (an output: setting it is refused); the documentation "
          "lets File read from it, we read from File Name resolved into it. Normalised "
          "('a/../b' is 'b'), symbolic links not followed.",
          description="The resolved path of the DICOM file used to inherit DICOM tags."),
    Field("inputSelector", "Input Selector", E, "inheritance", default="ImageConnector #0",
          deprecated_names=("inheritanceInput",),
          deviation="Overwritten hand-written values are kept: undoInheritance restores them; "
          "a run inherits again and re-applies the values set by hand. An empty selected "
          "source is an error naming it, never skipped.",
          enum_values=(
              EnumValue("ImageConnector #0", "Image Connector #0", ("ImageConnector",),
                        "The DICOM tree is taken from the image at input0."),
              EnumValue("File", "File", (),
                        "All DICOM information is read from the file in True File Name."),
              EnumValue("BaseConnector", "Base Connector", (),
                        "The DICOM tree or volume list at inputBase."),
              EnumValue("ImageConnector #1", "Image Connector #1", (),
                        "The DICOM tree is taken from the image at input1."),
          ),
          description="Selects the input from which Inherit DICOM Information reads. "
          "Inheriting overwrites hand-written values (they are kept for undo)."),
    Field("inputVolumeIndex", "InIdx", I, "inheritance", default="0", minimum=0,
          deprecated_names=("ddiOutVolIdx",),
          sensitive_when=("inputSelector", ("BaseConnector",)),
          deviation="A volume list from our own directory scan stands for DirectDicomImport's; "
          "an index beyond it is refused.",
          description="Which volume of the volume list at inputBase is the source of DICOM tags."),
    Field("numVolumes", "#Volumes", I, "inheritance", default="0", persistent=False,
          deprecated_names=("numDDIVolumes",),
          deviation="Read-only, as documented: setting it is refused.",
          description="Read-only: the number of volumes in the volume list at inputBase."),
    Field("inheritDICOMTags", "Inherit DICOM Information (CTRL+R)", T, "inheritance",
          deviation="A refusal (no source, unreadable file) honours postBadParamErrors as "
          "Save does and changes no field.",
          description="Inherits all DICOM related information from the selected input."),
    Field("undoInheritance", "Undo Inheritance", T, "inheritance", extension=True,
          description="Restores every value the last Inherit DICOM Information replaced."),
    Field("copyOtherInputTags", "Copy Other Input Tags", B, "inheritance", default="FALSE",
          deviation="Stricter: tags that would break the REG object (pixel data, other "
          "modules' Type 1 attributes) are never copied.",
          description="Also copies the input's other tags, except those that would break the "
          "REG object. Inappropriate tags might be copied."),
    Field("inheritEquipment", "Inherit Equipment", B, "inheritance", default="FALSE",
          extension=True,
          description="Also inherit Manufacturer, Manufacturer Model Name, Device Serial "
          "Number and Software Versions from the source (non-empty values only). Off by "
          "default: these fields describe the equipment creating the REG ('Company creating "
          "this report'), not the scanner of its source."),
    # --- tag dump ----------------------------------------------------------------------------
    Field("tagDumpSize", "Tag Dump Size", I, "tag dump", default="1000000", minimum=0,
          extension=True,
          description="The documentation gives this field no name. The maximum number of "
          "characters of Tag Dump; a longer dump is cut and 'tag list shortened and not "
          "shown completely' is appended."),
    Field("dumpPrivateTagValues", "Dump Private Tag Values", B, "tag dump", default="FALSE",
          description="Decodes the values of private tags where a decoder is available."),
    Field("numShownBinaryEntries", "Num shown binary bytes", I, "tag dump", default="8",
          minimum=0, description="Number of shown bytes of binary tags."),
    Field("annotate", "Annotate", B, "tag dump", default="FALSE",
          description="Annotates tags with their possible Types (1, 1C, 2, 2C, 3) and "
          "meanings, without context analysis."),
    Field("regExLineFilter", "Filter", S, "tag dump", syntax="regex",
          description="If not empty, only the lines of Tag Dump matching this regular "
          "expression are shown."),
    Field("tagDump", "Tag Dump", S, "tag dump", persistent=False,
          deviation="Read-only (setting it is refused). Control characters of undecodable "
          "values are shown escaped (\\x00), never raw.",
          description="A dump of the DICOM tags as Save would write them."),
    # --- save --------------------------------------------------------------------------------
    Field("save", "Save (Ctrl+S)", T, "save", extension=True,
          description="The documentation gives this trigger no name. Composes, checks and "
          "writes the REG file to File Name."),
    Field("fileName", "File Name", S, "save",
          deviation="Never overwrites an input of the module; a field or transform file "
          "suffix is refused. On the command line -o sets it, and --set fileName with -o is "
          "refused.",
          description="The path and name of the REG file to be written."),
    Field("postBadParamErrors", "Post Bad Param Errors", B, "save", default="TRUE",
          deviation="Honoured by every trigger, not only Save; nothing is written either way.",
          description="If enabled a bad parameter raises an error; otherwise it is only "
          "shown in the status field. In both cases nothing is written."),
    Field("status", "Status", S, "save", persistent=False, extension=True,
          deviation="Read-only (setting it is refused).",
          description="The module's status: what the last trigger did, or what was wrong."),
    # --- patient -----------------------------------------------------------------------------
    Field("patientsName", "Patients Name", S, "patient", vr="PN", tag="PatientName",
          description="The name of the patient."),
    Field("patientID", "Patient ID", S, "patient", vr="LO", tag="PatientID",
          description="String/number used to identify the patient."),
    # The birth date and sex default to unknown ('User Defined' with empty strings: Type 2,
    # written empty), not to the documentation's 1900-01-01 and Other: a default would
    # invent a patient. They are written only when inherited or set.
    Field("patientBirthDateYearEnum", "Patient Birth Date Year", E, "patient",
          default=USER_DEFINED, enum_values=_YEARS, tag="PatientBirthDate",
          deviation="Defaults to unknown (User Defined, empty), not 1900: a default would "
          "invent a birth date. Stricter: year, month and day must make a calendar date; all "
          "three empty strings (User Defined) write an unknown birth date.",
          description="The year of birth; 'User Defined' takes the year string. Unknown "
          "(User Defined, empty) until inherited or set."),
    Field("patientBirthDateYearString", "Patient Birth Date Year String", S, "patient",
          follows="patientBirthDateYearEnum",
          sensitive_when=("patientBirthDateYearEnum", (USER_DEFINED,)),
          deviation="The documentation makes it editable when 'Patient Sex' is User Defined "
          "(a slip: it is the year enum). It follows the year enum otherwise, and setting it "
          "then is refused.",
          description="The year of birth as text, used when the year enum is 'User Defined'. "
          "Empty year, month and day strings write an empty (unknown) birth date."),
    Field("patientBirthDateMonthEnum", "Patient Birth Date Month", E, "patient",
          default=USER_DEFINED, enum_values=_MONTH_VALUES,
          deviation="Defaults to unknown, not 01-January. Accepts 'March', 'Mar', '03' and "
          "'3' for '03-March', case-insensitively, as the documentation says of its string.",
          description="The month of birth; 'User Defined' takes the month string. Unknown "
          "until inherited or set."),
    Field("patientBirthDateMonthString", "Patient Birth Date Month String", S, "patient",
          follows="patientBirthDateMonthEnum",
          sensitive_when=("patientBirthDateMonthEnum", (USER_DEFINED,)),
          deviation="Follows the month enum unless it is User Defined; setting it then is "
          "refused.",
          description="The month of birth as text: '03-March', 'March' and '03' all mean 03."),
    Field("patientBirthDateDayEnum", "Patient Birth Date Day", E, "patient",
          default=USER_DEFINED, enum_values=_DAYS,
          deviation="Defaults to unknown, not 01. Also accepts '5' for '05'.",
          description="The day of birth; 'User Defined' takes the day string. Unknown until "
          "inherited or set."),
    Field("patientBirthDateDayString", "Patient Birth Date Day String", S, "patient",
          follows="patientBirthDateDayEnum",
          sensitive_when=("patientBirthDateDayEnum", (USER_DEFINED,)),
          deviation="Follows the day enum unless it is User Defined; setting it then is "
          "refused.",
          description="The day of birth as text."),
    Field("patientSexEnum", "Patient Sex", E, "patient", default=USER_DEFINED,
          enum_values=_SEXES, tag="PatientSex",
          deviation="Defaults to unknown (User Defined, empty), not Other: a default would "
          "invent one. Also accepts the codes it writes (M, F, O).",
          description="The sex of the patient (O, F, M); 'User Defined' takes the string. "
          "Unknown until inherited or set."),
    Field("patientSexString", "Patient Sex String", S, "patient",
          follows="patientSexEnum", sensitive_when=("patientSexEnum", (USER_DEFINED,)),
          deviation="Follows Patient Sex unless it is User Defined; setting it then is "
          "refused. Only M, F, O, their titles or empty are written (PS3.3 C.7.1.1).",
          description="The sex as text, used when Patient Sex is 'User Defined': M, F, O, "
          "their titles, or empty for unknown."),
    # --- study -------------------------------------------------------------------------------
    Field("studyInstanceUID", "Study Instance UID", S, "study", vr="UI",
          tag="StudyInstanceUID",
          description="Unique identifier of the study. Used when Auto is off."),
    Field("createStudyInstanceUID", "Create new UID (createStudyInstanceUID)", T, "study",
          deviation="Titled with its field name, as the documentation's heading is: the "
          "series trigger has the same title.",
          description="Creates a new Study Instance UID."),
    Field("autoCreateStudyInstanceUID", "Auto", B, "study", default="TRUE",
          description="If enabled each written file gets a new Study Instance UID."),
    Field("studyDate", "Study Date", S, "study", vr="DA", tag="StudyDate",
          description="The date the study started. May be empty; a REG that creates a new "
          "study writes the moment of saving unless this is set by hand."),
    Field("studyTime", "Study Time", S, "study", vr="TM", tag="StudyTime",
          description="The time the study started. May be empty; a REG that creates a new "
          "study writes the moment of saving unless this is set by hand."),
    Field("referringPhysicianName", "Referring Physician Name", S, "study", vr="PN",
          tag="ReferringPhysicianName", description="May be empty."),
    Field("studyUID", "Study UID", S, "study", vr="SH", tag="StudyID",
          deviation="The documentation's (0020,0010) is Study ID, which is what it writes; "
          "checked as SH (at most 16 characters). A REG that creates a new study writes the "
          "moment of saving (YYYYMMDDHHMMSS) unless this is set by hand.",
          description="The Study ID (0020,0010): user or equipment generated. May be empty; "
          "a REG that creates a new study writes the moment of saving (YYYYMMDDHHMMSS) "
          "unless this is set by hand."),
    Field("accessionNumber", "Accession Number", S, "study", vr="SH", tag="AccessionNumber",
          description="A RIS generated number identifying the order of the study."),
    Field("studyDescription", "Study Description", S, "study", vr="LO",
          tag="StudyDescription", description="Optional."),
    # --- series ------------------------------------------------------------------------------
    Field("seriesInstanceUID", "Series Instance UID", S, "series", vr="UI",
          tag="SeriesInstanceUID",
          description="Unique identifier of the series. Used when Auto is off."),
    Field("createSeriesInstanceUID", "Create new UID (createSeriesInstanceUID)", T, "series",
          deviation="Titled with its field name, as the documentation's heading is: the "
          "study trigger has the same title.",
          description="Creates a new Series Instance UID."),
    Field("autoCreateSeriesInstanceUID", "Auto", B, "series", default="TRUE",
          description="If enabled each written file gets a new Series Instance UID."),
    Field("seriesNumber", "Series Number", S, "series", vr="IS", max_length=12,
          tag="SeriesNumber",
          deviation="Stricter: an IS within +-(2^31-1), as PS3.5 requires. A REG that "
          "creates a new study, with none inherited or set, is series 1.",
          description="An integer of at most 12 characters within +-(2^31-1); may be empty. "
          "A REG that creates a new study, with none inherited or set, is series 1."),
    Field("inheritSeriesNumber", "Inherit Series Number", B, "series", default="TRUE",
          description="Whether inheriting also sets the Series Number."),
    Field("laterality", "Laterality", E, "series", default="WriteEmptyTagValue",
          enum_values=_enum(("Do Not Write Tag Value", "DoNotWriteTagValue"),
                            ("Write Empty Tag Value", "WriteEmptyTagValue"), "L", "R"),
          tag="Laterality",
          deviation="Inheriting without a side writes none for an unpaired Body Part "
          "Examined (an empty one is an error there), an empty one otherwise.",
          description="Laterality (0020,0060): L, R, an empty value, or not written."),
    Field("useEmptyLateralityTagIfNotFoundOnInheritance",
          "Use Empty Laterality Tag If Not Found On Inheritance", B, "series", default="TRUE",
          description="On inheritance without a Laterality in the source, write an empty one "
          "instead of none."),
    Field("bodyPartExamined", "Body Part Examined", S, "series", vr="CS",
          tag="BodyPartExamined", extension=True,
          description="Body Part Examined (0018,0015), carried over from the source on "
          "inheritance (never invented); whether Laterality is required depends on it."),
    Field("seriesDescription", "Series Description", S, "series", vr="LO",
          tag="SeriesDescription", description="Optional."),
    # --- frame of reference and equipment ----------------------------------------------------
    Field("frameOfReferenceUID", "Frame Of Reference UID", S,
          "frame of reference and equipment", vr="UI", tag="FrameOfReferenceUID",
          description="The registered (fixed) frame of reference of this REG."),
    Field("positionReferenceIndicator", "Position Reference Indicator", S,
          "frame of reference and equipment", vr="LO", tag="PositionReferenceIndicator",
          description="Part of the imaging target used as a reference. May be empty."),
    Field("manufacturer", "Manufacturer", S, "frame of reference and equipment", vr="LO",
          default=distribution_name(), tag="Manufacturer",
          deviation="Type 1 in the Enhanced General Equipment Module, so never empty "
          "(the documentation says it may be); not inherited unless inheritEquipment.",
          description="The maker of the software creating this REG (Type 1 here)."),
    Field("manufacturerModelName", "Manufacturer Model Name", S,
          "frame of reference and equipment", vr="LO", default="DicomREGSave",
          tag="ManufacturerModelName", description="Type 1 in this object.",
          deviation="Type 1 here, so never empty; not inherited unless inheritEquipment."),
    Field("deviceSerialNumber", "Device Serial Number", S,
          "frame of reference and equipment", vr="LO", default="dicomreg",
          tag="DeviceSerialNumber",
          deviation="Type 1 here, so never empty; not inherited unless inheritEquipment.",
          description="Type 1 in this object. Software has no hardware serial: set your "
          "site's installation identifier."),
    Field("softwareVersions", "Software Versions", S, "frame of reference and equipment",
          vr="LO", tag="SoftwareVersions",
          deviation="Type 1 here: empty writes this package's version.",
          description="Type 1 in this object; empty writes this package's version."),
    # --- content -----------------------------------------------------------------------------
    Field("contentDate", "Content Date", S, "content", vr="DA", tag="ContentDate",
          deviation="Type 1 in this object: empty writes the date of saving (the "
          "documentation says it may be empty). Stricter: a calendar date, no range.",
          description="The date the content was created; empty writes the date of saving."),
    Field("contentTime", "Content Time", S, "content", vr="TM", tag="ContentTime",
          deviation="Type 1 in this object: empty writes the time of saving. Stricter: one "
          "time, no range.",
          description="The time the content was created; empty writes the time of saving."),
    Field("contentLabel", "Content Label", S, "content", vr="CS", max_length=16,
          default="REGISTRATION", tag="ContentLabel",
          deviation="Type 1, so it defaults to REGISTRATION instead of empty.",
          description="Identifies this SOP instance: upper case, digits, space and "
          "underscore, at most 16 characters. Type 1."),
    Field("contentDescription", "Content Description", S, "content", vr="LO",
          tag="ContentDescription", description="A description of this SOP instance."),
    Field("contentCreatorsName", "Content Creators Name", S, "content", vr="PN",
          tag="ContentCreatorName", description="The operator creating the content."),
    Field("instanceNumber", "Instance Number", S, "content", vr="IS", max_length=12,
          default="1", tag="InstanceNumber", extension=True,
          description="Instance Number (0020,0013), Type 1 in this object; the "
          "documentation has no field for it."),
    # --- registration ------------------------------------------------------------------------
    Field("sourceFrameOfReferenceUID", "Source Frame Of Reference UID", S, "registration",
          vr="UI", tag="SourceFrameOfReferenceUID",
          description="The frame of reference of the moving (source) image."),
    Field("worldMatrixInheritanceSource", "World Matrix Inheritance Source", E,
          "registration", default="DICOM_INPUT", enum_values=_INHERITANCE_SOURCES,
          description="Whether Image Position/Orientation Patient are inherited from the "
          "DICOM input or from the input image's world matrix."),
    Field("sourceFrameOfReferenceUIDInheritanceSource", "Inherit From", E, "registration",
          default="IMAGE_INPUT", enum_values=_INHERITANCE_SOURCES,
          deviation="The documentation says it decides the Frame Of Reference UID; it decides "
          "the Source Frame Of Reference UID (whose title it sits under), IMAGE_INPUT being "
          "the image referenced.",
          description="Whether the Source Frame Of Reference UID is inherited from the DICOM "
          "input or from the image selected for referenced images."),
    Field("imagePositionPatient", "Image Position Patient", FieldType.VECTOR3, "registration",
          default="0 0 0", tag="ImagePositionPatient",
          deviation="Stricter: must agree with input0's grid (its first voxel, within "
          "tolerance); the documentation writes whatever is set.",
          description="The grid's Image Position (Patient) in mm; must agree with input0's "
          "world matrix."),
    Field("imageOrientationPatient", "Image Orientation Patient", FieldType.VECTOR6,
          "registration", default="1 0 0 0 1 0", tag="ImageOrientationPatient",
          deviation="Stricter: must agree with input0's grid directions; a sheared grid is "
          "refused.",
          description="The grid's row and column direction cosines; must agree with input0's "
          "world matrix."),
    Field("preDeformationMatrix", "Pre Deformation Matrix", FieldType.MATRIX, "registration",
          default=_IDENTITY, tag="FrameOfReferenceTransformationMatrix",
          deviation="Written at (3006,00C6) (the documentation's (3006,006C) is a typo); "
          "stricter: a matrix that is not of its Type is refused.",
          description="4x4 row-major matrix applied to a registered point before the "
          "deformation, written at (3006,00C6) (the documentation's (3006,006C) is a typo). "
          "The grid's vectors stay those of the registered points: a point p maps to "
          "Post (Pre p + D(p)) with D taken at p itself (PS3.3 C.20.3.1.1), not at Pre p, so "
          "setting a pre matrix on a plain field does not move or resample the grid; a field "
          "made for Pre p (ITK's 'affine, then field') must hold u(Pre p) at p."),
    Field("preDeformationMatrixType", "Type", E, "registration", default="RIGID",
          enum_values=_MATRIX_TYPES, tag="FrameOfReferenceTransformationMatrixType",
          description="RIGID, RIGID_SCALE or AFFINE; a matrix that is not of its type is "
          "refused."),
    Field("postDeformationMatrix", "Post Deformation Matrix", FieldType.MATRIX,
          "registration", default=_IDENTITY, tag="FrameOfReferenceTransformationMatrix",
          deviation="As the pre matrix: (3006,00C6), and refused when not of its Type.",
          description="4x4 row-major matrix applied after the deformation, giving the "
          "source position."),
    Field("postDeformationMatrixType", "Type", E, "registration", default="RIGID",
          enum_values=_MATRIX_TYPES, tag="FrameOfReferenceTransformationMatrixType",
          description="RIGID, RIGID_SCALE or AFFINE."),
    # --- referenced images -------------------------------------------------------------------
    Field("inputConnectorSelector", "Inherit From", E, "referenced images",
          default="ImageConnector #1",
          enum_values=(
              EnumValue("ImageConnector #0", "ImageConnector #0", (),
                        "Referenced SOP Class/Instance UIDs are inherited from input0."),
              EnumValue("ImageConnector #1", "ImageConnector #1", (),
                        "Referenced SOP Class/Instance UIDs are inherited from input1."),
          ),
          description="The input whose instances are referenced."),
    Field("clearReferencedImageSequenceFields", "Clear Fields", T, "referenced images",
          description="Clears the four referenced image fields."),
    Field("updateReferencedImageSequenceUIDInheritance",
          "Inherit Referenced Image Sequence Tags", T, "referenced images",
          description="Fills the referenced class and instance UIDs with every instance of "
          "the selected input."),
    Field("referencedFrameNumbers", "Referenced Frame Numbers", S, "referenced images",
          tag="ReferencedFrameNumber", syntax="print-list",
          deviation="Stricter: frames only for multi-frame instances and within their frame "
          "count, at most one list per referenced image.",
          description="Print-lists of frame numbers, one per referenced image, separated by "
          "colons: '1-2,4,6 : 1 2 3 4 : 1'. Frames count from 1."),
    Field("referencedSegmentNumbers", "Referenced Segment Numbers", S, "referenced images",
          tag="ReferencedSegmentNumber", syntax="print-list",
          deviation="Stricter: only for segmentations, and within their segment count.",
          description="Print-lists of segment numbers, one per referenced image, separated "
          "by colons; only for segmentation sources."),
    Field("referencedImageSequenceReferencedSOPClassUIDs", "Referenced SOP Class UIDs", S,
          "referenced images", vr="UI", multi_line=True, tag="ReferencedSOPClassUID",
          description="Newline-separated Referenced SOP Class UIDs of the Referenced Image "
          "Sequence."),
    Field("referencedImageSequenceReferencedSOPInstanceUIDs", "Referenced SOP Instance UIDs",
          S, "referenced images", vr="UI", multi_line=True, tag="ReferencedSOPInstanceUID",
          description="Newline-separated Referenced SOP Instance UIDs of the Referenced Image "
          "Sequence."),
    # --- common instance reference -----------------------------------------------------------
    Field("autoUpdateOnStudyInstanceUIDChanges",
          "Update automatically on changes of StudyInstanceUID", B,
          "common instance reference", default="TRUE",
          description="Recomputes the Common Instance Reference fields when the Study "
          "Instance UID changes."),
    Field("updateUIDInheritance", "Update tags of Common Instance Reference IOD Module", T,
          "common instance reference",
          description="Recomputes the Common Instance Reference fields from the referenced "
          "images and the Study Instance UID."),
    Field("referencedSeriesClear", "Clear Referenced Series Fields", T,
          "common instance reference",
          description="Clears the referenced series fields."),
    Field("referencedSeriesReferencedSOPClassUIDs", "Referenced SOP Class UIDs", S,
          "common instance reference", vr="UI", multi_line=True,
          tag="ReferencedSOPClassUID",
          description="Newline-separated class UIDs of the Referenced Instance Sequence of "
          "the Referenced Series Sequence item."),
    Field("referencedSeriesReferencedSOPInstanceUIDs", "Referenced SOP Instance UIDs", S,
          "common instance reference", vr="UI", multi_line=True,
          tag="ReferencedSOPInstanceUID",
          description="Newline-separated instance UIDs of the Referenced Instance Sequence of "
          "the Referenced Series Sequence item."),
    Field("referencedSeriesSeriesInstanceUID", "Series Instance UID", S,
          "common instance reference", vr="UI", multi_line=True, tag="SeriesInstanceUID",
          description="The Series Instance UID of the Referenced Series Sequence item; one "
          "per line for several series, whose instance UIDs are then grouped by empty lines."),
    Field("referencedStudiesClear", "Clear Referenced Studies Fields", T,
          "common instance reference",
          description="Clears the referenced studies fields."),
    Field("referencedStudiesReferencedSOPClassUIDs", "Referenced SOP Class UIDs", S,
          "common instance reference", vr="UI", multi_line=True,
          tag="ReferencedSOPClassUID",
          description="Newline-separated class UIDs of the Studies Containing Other "
          "Referenced Instances Sequence item."),
    Field("referencedStudiesReferencedSOPInstanceUIDs", "Referenced SOP Instance UIDs", S,
          "common instance reference", vr="UI", multi_line=True,
          tag="ReferencedSOPInstanceUID",
          description="Newline-separated instance UIDs of the Studies Containing Other "
          "Referenced Instances Sequence item."),
    Field("commonInstanceReferenceStudyInstanceUID", "Study Instance UID", S,
          "common instance reference", vr="UI", multi_line=True, tag="StudyInstanceUID",
          description="The Study Instance UID of the Studies Containing Other Referenced "
          "Instances Sequence item; one per line, beside each line of the series field."),
    Field("referencedStudiesSeriesInstanceUID", "Series Instance UID", S,
          "common instance reference", vr="UI", multi_line=True, tag="SeriesInstanceUID",
          description="The Series Instance UID inside the Studies Containing Other "
          "Referenced Instances Sequence item; one per line for several series."),
)  # fmt: skip

del S, B, I, E, T


def _distinct_titles(fields: tuple[Field, ...]) -> tuple[Field, ...]:
    """Each title the documentation gives two fields (two "File Name", five "Series Instance
    UID") gets the field's name after it, as the documentation's own headings do, so that a
    panel, a menu or a list never shows two fields under one title."""
    counts = Counter(f.title for f in fields)
    note = "Titled with its field name: the documentation gives another field the same title."
    return tuple(
        replace(f, title=f"{f.title} ({f.name})",
                deviation=" ".join(filter(None, (f.deviation, note))))
        if counts[f.title] > 1 else f for f in fields)


FIELDS = _distinct_titles(FIELDS)

class UnknownFieldError(DicomRegError, KeyError):
    """No field has the name given; the message suggests close names."""

    def __str__(self) -> str:
        return str(self.args[0])


_BY_NAME: dict[str, Field] = {}
for _field in FIELDS:
    for _name in (_field.name, *_field.deprecated_names):
        if _name in _BY_NAME:
            raise RuntimeError(f"field name {_name!r} is declared twice")
        _BY_NAME[_name] = _field


for _field in FIELDS:
    for _other in filter(None, (_field.follows, (_field.sensitive_when or ("",))[0])):
        if _other not in _BY_NAME:
            raise RuntimeError(f"{_field.name} refers to the unknown field {_other!r}")


def field_by_name(name: str) -> Field:
    """Return the field called ``name`` (its name or a deprecated name).

    Raises
    ------
    UnknownFieldError
        With a message naming the unknown field and suggesting close names.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, _BY_NAME, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownFieldError(f"unknown field {name!r}{hint}") from None
