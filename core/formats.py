"""File formats the command line names in its help and its messages (no heavy imports)."""

from __future__ import annotations

__all__ = ["FIELD_SUFFIXES", "TRANSFORM_SUFFIXES"]

# Displacement field images SimpleITK reads (uncompressed .mha/.mhd are memory-mapped).
FIELD_SUFFIXES = (".mha", ".mhd", ".nrrd", ".nhdr", ".nii", ".nii.gz", ".vtk", ".hdr")
# ITK transform files SimpleITK reads.
TRANSFORM_SUFFIXES = (".h5", ".hdf5", ".tfm", ".txt", ".mat")
