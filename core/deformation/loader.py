"""One loader for every deformation file: a displacement field image or an ITK transform file
becomes the REG's grid (in the REG's convention) and, for a transform, its matrices.

``dicomreg save``, ``dicomreg batch`` and the DisplacementField node all load through
:func:`load_deformation`, so that a file gives the same grid, matrices and notes everywhere.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from dicomreg.core.deformation.conventions import to_reg_convention
from dicomreg.core.deformation.field_convention import (
    CONVENTION_OPTIONS,
    ConventionError,
    FieldConvention,
)
from dicomreg.core.deformation.field_file import read_displacement_field
from dicomreg.core.deformation.loaded import LoadedDeformation
from dicomreg.core.deformation.transform_file import read_transform_file
from dicomreg.core.formats import TRANSFORM_SUFFIXES, file_suffix
from dicomreg.core.image import Geometry, Image

__all__ = ["ITK_CONVENTION", "load_deformation"]

# The convention of ITK's fields and transforms, which is the REG's own, as settings.
ITK_CONVENTION = dataclasses.asdict(FieldConvention())


def _convention(convention: FieldConvention | Mapping[str, str] | None,
                options: Mapping[str, str]) -> FieldConvention:
    """The convention, ITK's where not given; an unknown option or value refused."""
    given = (dataclasses.asdict(convention) if isinstance(convention, FieldConvention)
             else dict(convention or {}))
    chosen = {**given, **options}
    unknown = sorted(set(chosen) - set(CONVENTION_OPTIONS))
    if unknown:
        raise ConventionError(f"convention: {', '.join(map(repr, unknown))} is not an option; "
                              f"the options are {', '.join(CONVENTION_OPTIONS)}")
    return FieldConvention(**chosen)  # checks each value


def load_deformation(path: str | os.PathLike[str],
                     convention: FieldConvention | Mapping[str, str] | None = None,
                     reference_geometry: Geometry | None = None, *, field: Image | None = None,
                     streamed: bool = False, **options: str) -> LoadedDeformation:
    """A field image or an ITK transform file as the REG's grid, matrices and notes.

    Parameters
    ----------
    path
        A displacement field image (see ``FIELD_SUFFIXES``) or an ITK transform file (see
        ``TRANSFORM_SUFFIXES``).
    convention
        The field image's convention (a :class:`FieldConvention`, or a mapping of its
        ``components``, ``units``, ``kind`` and ``direction``); ITK's where not given.
        Keyword arguments of the same names take precedence over it. A transform file is
        always in ITK's convention.
    reference_geometry
        The fixed image's grid: a push field is inverted onto it, a B-spline transform sampled
        on it, and a field that does not overlap it at all is warned of.
    field
        The field image already read from ``path`` (a reader's cache); it is not read again
        and not changed.
    streamed
        A compressed MetaImage field in the REG's convention is inflated only as the REG is
        written (see :mod:`.streamed`): for a caller that writes it once, as a save does.

    Raises
    ------
    DicomRegError
        For an unknown convention, an unreadable file, or a convention given for a transform.
    """
    chosen = _convention(convention, options)
    path = Path(path)
    if file_suffix(path) in TRANSFORM_SUFFIXES:
        if chosen != FieldConvention():
            raise ConventionError("components, units, kind and direction describe field "
                                  "images; an ITK transform file is in ITK's convention")
        loaded = read_transform_file(path, grid=reference_geometry)
    else:
        # A copy of a cached image, so that giving the result its DICOM leaves the cache alone.
        image = dataclasses.replace(field) if field is not None else read_displacement_field(
            path, streamed=streamed and chosen == FieldConvention())
        image, notes = to_reg_convention(image, chosen, target=reference_geometry)
        loaded = LoadedDeformation(image, notes=notes)
    geometry = loaded.image.geometry
    if reference_geometry is not None and geometry is not None \
            and not geometry.overlaps(reference_geometry):
        loaded.notes.append("warning: the field's grid does not overlap the fixed image at "
                            "all; check the field's origin and the fixed series")
    return loaded
