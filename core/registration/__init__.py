"""Registration of a moving image to a fixed one, inside dicomreg: well-kept libraries'
optimisers (SimpleITK's ImageRegistrationMethod; elastix through itk-elastix, optional) whose
result is a REG's pre-deformation matrix and grid, with a quality report.

Names are imported from their modules on first use (see :mod:`dicomreg.core.lazy_exports`).
"""

from dicomreg.core.lazy_exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "METHODS": "settings",
    "RegistrationError": "settings",
    "RegistrationCancelledError": "settings",
    "Progress": "settings",
    "load_settings": "settings",
    "settings_for": "settings",
    "load_image": "images",
    "with_voxels": "images",
    "QualityReport": "quality",
    "RegistrationResult": "register",
    "register": "register",
})
