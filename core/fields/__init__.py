"""The field table of DicomREGSave and everything derived from it: value syntaxes, print-lists,
the tag dump's line filter, the generated field reference, and the conversions of the fields
that are not written as they are (birth date, sex, laterality).

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "FIELDS": "table",
    "EnumValue": "table",
    "Field": "table",
    "FieldType": "table",
    "GROUPS": "table",
    "MONTHS": "table",
    "SEX_CODES": "table",
    "USER_DEFINED": "table",
    "UnknownFieldError": "table",
    "field_by_name": "table",
    "FieldValueError": "values",
    "format_value": "values",
    "parse": "values",
    "uid_groups": "values",
    "uid_lines": "values",
    "validate_dicom_text": "values",
    "PrintListError": "print_list",
    "format_print_lists": "print_list",
    "parse_print_lists": "print_list",
    "LineFilter": "line_filter",
    "LineFilterError": "line_filter",
    "field_reference": "reference",
    "TWINS": "rules",
    "assignment_problems": "rules",
    "followed_values": "rules",
    "insensitivity_notes": "rules",
    "FROM_ATTRIBUTE": "conversions",
    "TO_ATTRIBUTE": "conversions",
    "birth_date_fields": "conversions",
    "inherited_laterality": "conversions",
    "laterality_attribute": "conversions",
    "patient_birth_date": "conversions",
    "patient_sex": "conversions",
    "sex_fields": "conversions",
})
