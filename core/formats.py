"""File formats the command line names in its help and its messages (no heavy imports)."""

from __future__ import annotations

__all__ = ["FIELD_SUFFIXES"]

# Displacement field images SimpleITK reads (uncompressed .mha/.mhd are memory-mapped).
FIELD_SUFFIXES = (".mha", ".mhd", ".nrrd", ".nhdr", ".nii", ".nii.gz", ".vtk", ".hdr")
