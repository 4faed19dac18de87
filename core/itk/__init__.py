"""Living with ITK: SimpleITK images filled in place and their pages given back, and ITK's
failures (its exceptions, and what its libraries write to descriptor 2) as one line.

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, ("buffer", "messages"))
