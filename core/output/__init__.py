"""The output rule: what may be written or replaced, and writing it atomically through a
hidden partial directory beside the target, removed by the next write once its writer is gone.

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, ("atomic", "partials"))
