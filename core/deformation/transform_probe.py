"""A transform file proven readable before ITK reads it in this process.

ITK reads HDF5 transforms through libhdf5, whose parser is native code: a damaged or hostile
file can make it crash, hang, or allocate what a dataset's header claims (HDF5 describes a
dataset of 10^12 fill values in a kilobyte), and none of that can be caught in Python; so do
its MATLAB reader and, for transform kinds whose parameter counts :mod:`.transform_file`
cannot check itself, its text reader (ITK sets a transform's parameters from a shorter list
without looking, and corrupts its heap). What can be proven cheaply is checked here; the rest
is tried where it can do no harm (:func:`check_hdf5_transform`; :func:`check_in_child` alone
for the others):

1. the file must carry HDF5's signature where the format puts it (offset 0, 512, 1024, ...),
   its superblock must be one of the versions the format defines, with offsets of 2, 4 or 8
   bytes, and the end of file it records must lie within the file (a truncated copy);
2. then a child process reads it with SimpleITK, under an address-space limit (the field size
   limit and room for Python and ITK) and a timeout, and reports how many parameters it
   holds. A crash, a hang, an exhausted limit or ITK's own refusal there is one line here;
3. only then, the parameters checked against the field size limit, does this process read it.

The read is deterministic, so what the child read within its bounds this process reads too.
The price is one more read of the file and a SimpleITK import (about a second), for HDF5
transforms only; text transforms are checked by their own words (:mod:`.transform_file`).
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

from dicomreg.core.errors import DicomRegError
from dicomreg.core.input import check_field_size, max_field_bytes
from dicomreg.core.itk import itk_reason

__all__ = ["HDF5_SUFFIXES", "HDF5TransformError", "check_hdf5_transform", "check_in_child"]

HDF5_SUFFIXES = (".h5", ".hdf5")
_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_BASE_ROOM = 2 << 30  # address space for Python, numpy and ITK's libraries in the child
_TIMEOUT = 30.0  # seconds for the child, plus a second for every 50 MB of file

# The child: its own limit first (a preexec_fn is unsafe beside the editor's threads), then
# the read; it says how many parameters (fixed and not) the transform's parts hold.
_CHILD = """
import json, resource, sys
limit, hard = int(sys.argv[2]), resource.getrlimit(resource.RLIMIT_AS)[1]
if hard != resource.RLIM_INFINITY:  # a parent's own bound is never raised
    limit = min(limit, hard)
resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
import SimpleITK as sitk
try:
    transform = sitk.ReadTransform(sys.argv[1])
except (RuntimeError, MemoryError) as error:
    print(json.dumps({"error": str(error)}))
    sys.exit(0)
parts = [transform]
if transform.GetName() == "CompositeTransform":
    composite = sitk.CompositeTransform(transform)
    parts = [composite.GetNthTransform(i) for i in range(composite.GetNumberOfTransforms())]
count = sum(len(p.GetParameters()) + len(p.GetFixedParameters()) for p in parts)
print(json.dumps({"parameters": count}))
"""


class HDF5TransformError(DicomRegError):
    """A transform file refused before ITK read it here; the message says why."""


def _superblock(path: Path, size: int) -> None:
    """Raise unless the signature and superblock are where and what the format says."""
    with open(path, "rb") as handle:
        at = 0
        while at + 64 <= max(size, 64):
            handle.seek(at)
            head = handle.read(96)
            if head.startswith(_SIGNATURE):
                break
            at = 512 if at == 0 else at * 2
        else:
            raise HDF5TransformError(f"'{path}' is not an HDF5 file (no HDF5 signature); "
                                     "expected an ITK transform written as HDF5")
    version = head[8] if len(head) > 8 else -1
    if version in (0, 1):
        offsets, fields_at = head[13] if len(head) > 13 else 0, 24 + (4 if version == 1 else 0)
    elif version in (2, 3):
        offsets, fields_at = head[9] if len(head) > 9 else 0, 12
    else:
        raise HDF5TransformError(f"'{path}': its HDF5 superblock version {version} is not one "
                                 "the format defines (0 to 3); a damaged file")
    if offsets not in (2, 4, 8):
        raise HDF5TransformError(f"'{path}': its HDF5 superblock gives offsets of {offsets} "
                                 "bytes; expected 2, 4 or 8 (a damaged file)")
    kind = {2: "<H", 4: "<I", 8: "<Q"}[offsets]
    # base address, then (v0/1) free-space address or (v2/3) extension address, then the EOF
    words = [struct.unpack_from(kind, head, fields_at + i * offsets)[0] for i in range(3)] \
        if len(head) >= fields_at + 3 * offsets else None
    if words is None:
        raise HDF5TransformError(f"'{path}': its HDF5 superblock is cut short (a truncated "
                                 "file)")
    end = at + words[0] + words[2]
    if end > size:
        raise HDF5TransformError(f"cannot read '{path}' as an ITK transform: the HDF5 file is "
                                 f"truncated, {size} of its {end} bytes are there")


def _child_read(path: Path, size: int) -> int:
    """The parameters the transform holds, read by a bounded child; refusals as one line."""
    limit = _BASE_ROOM + 3 * min(max_field_bytes(), 1 << 46)
    timeout = _TIMEOUT + size / 50e6
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _CHILD, str(path), str(limit)],
                              capture_output=True, text=True, errors="replace",
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise HDF5TransformError(f"'{path}': reading it as an ITK transform did not end in "
                                 f"{timeout:.0f} s (a damaged or hostile file)") from None
    except OSError as error:
        raise HDF5TransformError(f"'{path}': cannot start the bounded HDF5 read "
                                 f"({error.strerror})") from None
    answer = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    try:
        result = json.loads(answer[0]) if answer else None
    except ValueError:
        result = None
    if isinstance(result, dict) and isinstance(result.get("parameters"), int):
        return result["parameters"]
    if isinstance(result, dict) and "error" in result:
        reason = itk_reason(RuntimeError(str(result["error"])), done.stderr.splitlines())
        raise HDF5TransformError(f"cannot read '{path}' as an ITK transform: {reason}")
    ending = (f"ended with {signal.Signals(-done.returncode).name}" if done.returncode < 0
              else f"ended with status {done.returncode}")
    if "MemoryError" in done.stderr or "bad_alloc" in done.stderr:
        ending = "needed more memory than the field size limit allows"
    raise HDF5TransformError(f"'{path}': reading it as an ITK transform {ending} (a damaged "
                             "or hostile file); expected an ITK transform as ITK writes it")


def check_hdf5_transform(path: str | os.PathLike[str]) -> None:
    """Refuse an HDF5 transform file that is malformed, truncated, or that cannot be read
    within the field size limit and a timeout (see the module documentation).

    Raises
    ------
    HDF5TransformError
        With one line naming the file and what is wrong.
    InputLimitError
        If its parameters are more than the field size limit.
    """
    path = Path(path)
    _superblock(path, path.stat().st_size)
    check_in_child(path)


def check_in_child(path: str | os.PathLike[str]) -> None:
    """Refuse a transform file that a bounded child cannot read (a crash, a hang, memory
    beyond the field size limit, ITK's refusal), or whose parameters exceed that limit.

    Raises
    ------
    HDF5TransformError
        With one line naming the file and what went wrong.
    """
    path = Path(path)
    parameters = _child_read(path, path.stat().st_size)
    check_field_size(path, parameters * 8)
