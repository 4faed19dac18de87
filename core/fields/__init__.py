"""The field table of DicomREGSave and everything derived from it: value syntaxes, print-lists,
the tag dump's line filter, the generated field reference, and the conversions of the fields
that are not written as they are (birth date, sex, laterality).

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, (
    "table", "values", "print_list", "line_filter", "reference", "conversions", "rules"))
