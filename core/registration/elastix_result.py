"""What the elastix executable leaves: its TransformParameters files as the leading linear
stages' matrix, and the whole mapping's points by transformix itself.

elastix writes one ``TransformParameters.<i>.txt`` per map, each naming the one before it
(``InitialTransformParametersFileName``) and how it combines with it (``Compose``:
p -> T_i(T_(i-1)(...))). The matrix of a linear stage is ITK's own (a SimpleITK transform of
the stage's kind, centre and parameters: Euler's angle order and centre are ITK's to say);
stages of another kind, or combined otherwise, end the leading linear run: the grid then
carries them (Pre p + D(p) stays the whole mapping whatever A is).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dicomreg.core.matrices import linear_transform_matrix
from dicomreg.core.registration.elastix_maps import ParameterMap

__all__ = ["LINEAR_KINDS", "ElastixTransform", "leads_linear", "linear_matrix", "write_chain"]

#: elastix transforms that are a 4x4 matrix SimpleITK builds from their parameters; a leading
#: run of them, each composed onto the one before, becomes Pre (the executables and the
#: itk-elastix fallback alike).
LINEAR_KINDS = ("TranslationTransform", "EulerTransform", "SimilarityTransform",
                "AffineTransform")


def leads_linear(stage: ParameterMap, index: int) -> bool:
    """Whether the stage at ``index`` continues the leading linear run: a linear kind,
    composed onto the stages before it (elastix's "Compose"; "Add" sums instead)."""
    combined = str(stage.get("HowToCombineTransforms", ["Compose"])[0])
    return str(stage["Transform"][0]) in LINEAR_KINDS and (index == 0 or combined == "Compose")


def _floats(stage: ParameterMap, key: str) -> list[float]:
    return [float(v) for v in stage[key]]


def _stage_transform(stage: ParameterMap) -> Any | None:
    """The stage as a SimpleITK transform, or None when it is not a linear kind we know."""
    import SimpleITK as sitk

    kind, parameters = str(stage["Transform"][0]), _floats(stage, "TransformParameters")
    center = _floats(stage, "CenterOfRotationPoint") if "CenterOfRotationPoint" in stage \
        else [0.0, 0.0, 0.0]
    if kind == "TranslationTransform":
        return sitk.TranslationTransform(3, parameters)
    if kind == "EulerTransform":
        transform = sitk.Euler3DTransform()
        transform.SetCenter(center)
        transform.SetComputeZYX(str(stage.get("ComputeZYX", ["false"])[0]) == "true")
    elif kind == "SimilarityTransform":
        transform = sitk.Similarity3DTransform()
        transform.SetCenter(center)
    elif kind == "AffineTransform":
        transform = sitk.AffineTransform(3)
        transform.SetCenter(center)
    else:
        return None
    transform.SetParameters(parameters)
    return transform


def linear_matrix(stages: Sequence[ParameterMap]) -> np.ndarray:
    """The 4x4 matrix (fixed point -> moving point) of the leading linear stages."""
    matrix = np.eye(4)
    for index, stage in enumerate(stages):
        transform = _stage_transform(stage) if leads_linear(stage, index) else None
        if transform is None:
            break
        matrix = linear_transform_matrix(transform) @ matrix
    return matrix


_INITIAL = re.compile(r'\(InitialTransformParametersFileName "[^"]*"\)')


def write_chain(texts: Sequence[str], folder: Path) -> Path:
    """The TransformParameters files written again in ``folder``, each naming the one before
    it there; the last one's path (transformix's ``-tp``)."""
    path = Path("NoInitialTransform")
    for index, text in enumerate(texts):
        initial = f'(InitialTransformParametersFileName "{path}")'
        path = folder / f"TransformParameters.{index}.txt"
        path.write_text(_INITIAL.sub(lambda _m, line=initial: line, text), encoding="utf-8")
    return path


class ElastixTransform:
    """The whole mapping elastix found (fixed point -> moving point), as transformix maps
    points: elastix's own arithmetic, the oracle the tests hold our Pre and D against.

    Parameters
    ----------
    texts
        The TransformParameters files' text, in order.
    transformix
        The transformix executable.
    """

    def __init__(self, texts: Sequence[str], transformix: str) -> None:
        self.texts, self.transformix = list(texts), transformix

    def transform_points(self, points: np.ndarray) -> np.ndarray:
        """Where the mapping sends points (N, 3), in mm."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        with tempfile.TemporaryDirectory(prefix="dicomreg-transformix-") as name:
            folder = Path(name)
            last = write_chain(self.texts, folder)
            listed = folder / "points.txt"
            listed.write_text(f"point\n{len(points)}\n" + "".join(
                f"{x!r} {y!r} {z!r}\n" for x, y, z in points.tolist()), encoding="utf-8")
            subprocess.run([self.transformix, "-def", str(listed), "-tp", str(last),
                            "-out", str(folder), "-threads", "1"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            text = (folder / "outputpoints.txt").read_text(encoding="utf-8")
        found = re.findall(r"OutputPoint = \[([^\]]*)\]", text)
        return np.array([[float(v) for v in line.split()] for line in found])

    def TransformPoint(self, point: Sequence[float]) -> tuple[float, ...]:  # noqa: N802 - ITK's name
        """One point, as ITK's transforms offer it."""
        return tuple(self.transform_points(np.asarray([point]))[0])
