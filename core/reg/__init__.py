"""The Deformable Spatial Registration object: composing it (its modules, the vector grid, the
Common Instance Reference), checking it, writing and reading it, applying it, and dciodvfy.

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, (
    "composition", "deformable_registration", "common_instance_reference", "vector_grid",
    "checks", "writer", "reader", "apply", "dciodvfy"))
