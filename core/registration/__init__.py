"""Registration of a moving image to a fixed one, inside dicomreg: well-kept libraries'
optimisers (SimpleITK's ImageRegistrationMethod; elastix through its executables or
itk-elastix, optional) whose result is a REG's pre-deformation matrix and grid, with a
quality report.

The face offers each listed module's ``__all__``, importing the module on first use (see
:mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, ("settings", "images", "quality", "elastix",
                                                "pipeline", "warp"))
