"""The elastix method through the ``elastix`` and ``transformix`` executables (Debian's
``elastix`` package): no ITK Python wrapping to import (about 20 s and 850 MB of it).

The images (float32) and masks (unsigned char, 1 inside) are written as .mha in a temporary
folder with one parameter file per map; one ``elastix`` run registers through all the maps
(its "Compose": p -> T_n(...T_1(p)), what one wrapped call per map gave), its table of
iterations read line by line as it runs for the progress callback, and ``transformix -def
all`` gives the pull field W on the fixed grid. A cancel kills the child; the folder goes
with it either way. The executables are found on PATH only: nothing a flow file or a
settings file names is ever run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dicomreg.core.image import Image
from dicomreg.core.registration.elastix_maps import (
    ParameterMap,
    map_text,
    parse_parameters,
    stage_name,
)
from dicomreg.core.registration.elastix_result import ElastixTransform, linear_matrix
from dicomreg.core.registration.images import to_sitk
from dicomreg.core.registration.settings import (
    Progress,
    ProgressCallback,
    RegistrationCancelledError,
    RegistrationError,
)

__all__ = ["executables", "run_executables"]


def executables() -> tuple[str, str] | None:
    """The ``elastix`` and ``transformix`` on PATH, or None when either is missing."""
    found = shutil.which("elastix"), shutil.which("transformix")
    return (found[0], found[1]) if found[0] and found[1] else None


def _write_image(image: Image, path: Path, mask: bool = False) -> str:
    import SimpleITK as sitk

    if mask:  # 1 inside, as elastix takes masks
        image = Image(np.asarray(image.voxels) != 0, image.geometry, source=image.source)
    sitk.WriteImage(to_sitk(image, sitk.sitkUInt8 if mask else None), str(path))
    return str(path)


def _arguments(folder: Path, fixed: Image, moving: Image, maps: Sequence[ParameterMap],
               masks: tuple[Image | None, Image | None], threads: int) -> list[str]:
    """elastix's command line, its inputs written into ``folder``."""
    arguments = ["-f", _write_image(fixed, folder / "fixed.mha"),
                 "-m", _write_image(moving, folder / "moving.mha"),
                 "-out", str(folder), "-threads", str(threads)]
    for flag, mask in zip(("-fMask", "-mMask"), masks, strict=True):
        if mask is not None:
            arguments += [flag, _write_image(mask, folder / f"{flag[1:]}.mha", mask=True)]
    for index, stage in enumerate(maps):
        path = folder / f"parameters.{index}.txt"
        path.write_text(map_text(stage), encoding="utf-8")
        arguments += ["-p", str(path)]
    return arguments


_FILE = re.compile(r"^Running elastix with parameter file (\d+):")
_LEVEL = re.compile(r"^Resolution: (\d+)")
_ROW = re.compile(r"^(\d+)\t(\S+)\t")  # elastix's table: ItNr, Metric, ...


class _Watch:
    """elastix's output read as it comes: the map and resolution it is in, each iteration's
    metric for the progress callback, and the lines kept for a failure's reason."""

    def __init__(self, maps: Sequence[ParameterMap], progress: ProgressCallback | None):
        self.maps, self.progress = maps, progress
        self.stage, self.level, self.lines = 0, 0, []
        self.last = Progress(f"elastix {stage_name(maps[0])}", 0, self.levels(), 0,
                             float("nan"))

    def levels(self) -> int:
        return int(self.maps[self.stage].get("NumberOfResolutions", [1])[0])

    def line(self, text: str) -> bool:
        """Read one line; False when the callback asks to stop."""
        self.lines.append(text)
        if (found := _FILE.match(text)) is not None:
            self.stage, self.level = min(int(found.group(1)), len(self.maps) - 1), 0
        elif (found := _LEVEL.match(text)) is not None:
            self.level = int(found.group(1))
        elif (found := _ROW.match(text)) is not None and self.progress is not None:
            self.last = Progress(f"elastix {stage_name(self.maps[self.stage])}", self.level,
                                 self.levels(), int(found.group(1)), float(found.group(2)))
            return self.progress(self.last) is not False
        return True

    def failure(self) -> str:
        """elastix's own reason: an exception's description, else its first ERROR line."""
        lines = [line.strip() for line in self.lines if line.strip()]
        described = [line for line in lines if line.startswith("Description:")]
        if described:
            reason = described[-1].removeprefix("Description:").replace("ITK ERROR: ", "")
        else:
            errors = [i for i, line in enumerate(lines) if line.startswith("ERROR:")]
            reason = "elastix gave no reason" if not lines else lines[-1]
            if errors:
                first = errors[0]
                reason = lines[first].removeprefix("ERROR:").strip()
                if not reason or reason.endswith(":"):  # the line it names comes next
                    reason = " ".join([reason, *lines[first + 1:first + 2]])
        return (f"the elastix {stage_name(self.maps[self.stage])} stage failed: "
                f"{reason.strip()}")


def _run(command: list[str], watch: _Watch) -> None:
    """Run elastix, feeding ``watch`` each line; a cancel or any exception kills it."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, errors="replace")
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if not watch.line(line.rstrip("\n")):
                raise RegistrationCancelledError(
                    f"the registration was cancelled ({watch.last.describe()})")
        if process.wait() != 0:
            raise RegistrationError(watch.failure())
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _pull_field(transformix: str, last: Path, folder: Path) -> np.ndarray:
    """transformix's deformation field W (Z, Y, X, 3) on the fixed grid."""
    import SimpleITK as sitk

    out = folder / "transformix"
    out.mkdir()
    done = subprocess.run([transformix, "-def", "all", "-tp", str(last), "-out", str(out),
                           "-threads", "1"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace")
    written = sorted(out.glob("deformationField.*"))
    if done.returncode != 0 or not written:
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        raise RegistrationError("transformix could not write the deformation field: "
                                f"{lines[-1] if lines else 'it gave no reason'}")
    # read as float32: transformix may write doubles, and a cast after reading held both
    return sitk.GetArrayFromImage(sitk.ReadImage(str(written[0]), sitk.sitkVectorFloat32))


def run_executables(tools: tuple[str, str], fixed: Image, moving: Image,
                    maps: Sequence[ParameterMap],
                    masks: tuple[Image | None, Image | None], threads: int,
                    progress: ProgressCallback | None) -> tuple[np.ndarray, np.ndarray, Any]:
    """Register with the executables; returns as
    :func:`~dicomreg.core.registration.elastix.elastix_stages` (its transform an
    :class:`~dicomreg.core.registration.elastix_result.ElastixTransform`)."""
    with tempfile.TemporaryDirectory(prefix="dicomreg-elastix-") as name:
        folder = Path(name)
        watch = _Watch(maps, progress)
        _run([tools[0], *_arguments(folder, fixed, moving, maps, masks, threads)], watch)
        files = [folder / f"TransformParameters.{i}.txt" for i in range(len(maps))]
        texts = [path.read_text(encoding="utf-8") for path in files]
        stages = [parse_parameters(text, f"elastix's {path.name}")
                  for text, path in zip(texts, files, strict=True)]
        field = _pull_field(tools[1], files[-1], folder)
    return linear_matrix(stages), field, ElastixTransform(texts, tools[1])
