"""The field table of DicomREGSave and everything derived from it: value syntaxes, print-lists,
the tag dump's line filter and the generated field reference.

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "FIELDS": "table",
    "EnumValue": "table",
    "Field": "table",
    "FieldType": "table",
    "GROUPS": "table",
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
})
