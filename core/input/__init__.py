"""What a user hands us: the one rule for a path typed in a field, an option, a flow or a
manifest, and the bounds a hostile input file meets before anything is allocated or read.

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, ("paths", "limits"))
