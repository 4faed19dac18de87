"""File formats the command line names in its help and its messages (no heavy imports)."""

from __future__ import annotations

from pathlib import PurePath

__all__ = ["FIELD_SUFFIXES", "TRANSFORM_SUFFIXES", "file_suffix"]

# Displacement field images SimpleITK reads (uncompressed .mha/.mhd are memory-mapped).
FIELD_SUFFIXES = (".mha", ".mhd", ".nrrd", ".nhdr", ".nii", ".nii.gz", ".vtk", ".hdr")
# ITK transform files SimpleITK reads.
TRANSFORM_SUFFIXES = (".h5", ".hdf5", ".tfm", ".txt", ".mat")


def file_suffix(path: str | PurePath) -> str:
    """The lower-case suffix that names a file's format, ``.nii.gz`` counted as one."""
    name = PurePath(path).name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else PurePath(name).suffix
