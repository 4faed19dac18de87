"""A deformation as read from a file: the REG's grid, its matrices, and notes for the user."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dicomreg.core.image import Image
from dicomreg.core.matrices import classify_matrix

__all__ = ["LoadedDeformation"]


def _identity() -> np.ndarray:
    return np.eye(4)


@dataclass
class LoadedDeformation:
    """The grid and the matrices a field image or an ITK transform file gives.

    Attributes
    ----------
    image
        The displacement field in the REG's convention (pull, LPS, millimetres).
    pre_matrix, post_matrix
        The 4x4 matrices applied before and after the deformation (identity for a field
        image, which states none).
    notes
        What was done to the file's content that the user should know of.
    has_matrices
        Whether the file states the matrices (an ITK transform file does): only then do they
        replace the module's pre/post-deformation matrix fields.
    """

    image: Image
    pre_matrix: np.ndarray = field(default_factory=_identity)
    post_matrix: np.ndarray = field(default_factory=_identity)
    notes: list[str] = field(default_factory=list)
    has_matrices: bool = False

    @property
    def pre_matrix_type(self) -> str:
        """RIGID, RIGID_SCALE or AFFINE, decided from the matrix."""
        return classify_matrix(self.pre_matrix) or "AFFINE"

    @property
    def post_matrix_type(self) -> str:
        """RIGID, RIGID_SCALE or AFFINE, decided from the matrix."""
        return classify_matrix(self.post_matrix) or "AFFINE"
