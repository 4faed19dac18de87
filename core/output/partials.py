"""The hidden working directories of atomic writes, named after their writer, and their cleanup.

An atomic write (:func:`dicomreg.core.output.atomic_output`) builds its files in a hidden
``.NAME.TAG.RANDOM.partial`` directory beside the target. A process killed with SIGKILL cannot
remove it; the next write to the same directory does, once it is sure the writer is gone. The
TAG says who the writer was: this machine (a hash of its host name), this boot (the start of
the kernel's boot id), the process id and the process's start time since boot. A partial is
removed only when its host is ours and either the boot is over or no process with that id and
start time lives; a partial of another machine (a shared folder) or of a live process, ours
included, is never touched.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import stat
import tempfile
from functools import cache
from pathlib import Path

__all__ = ["make_partial", "remove_stale_partials"]

# ".NAME.HOSTBOOT-PID-START.RANDOM.partial"; mkdtemp's random part has no dot.
_PARTIAL = re.compile(r"^\..*\.([0-9a-f]{8})([0-9a-f]{8})-(\d+)-(\d+)\.[^.]+\.partial$")
_NAME_KEPT = 96  # of the target's name, so that the partial's name stays under 255 bytes


def _hex8(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


@cache
def _machine() -> tuple[str, str]:
    """This host's and this boot's 8-hex-digit marks."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:  # not Linux: boots cannot be told apart, processes still can
        boot = ""
    return _hex8(socket.gethostname()), _hex8(boot)


def _start_time(pid: int) -> int:
    """A process's start time in clock ticks since boot (0 where /proc does not say)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # The command name, in parentheses, may hold spaces: count the fields after it.
    fields = text[text.rfind(")") + 2:].split()
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else 0


def _alive(pid: int, start: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    now = _start_time(pid)
    # The same id with another start time is a new process: the writer is gone.
    return start == 0 or now == 0 or now == start


def make_partial(target: Path) -> Path:
    """A new hidden working directory beside ``target``, named after this process."""
    host, boot = _machine()
    pid = os.getpid()
    tag = f"{host}{boot}-{pid}-{_start_time(pid)}"
    return Path(tempfile.mkdtemp(prefix=f".{target.name[:_NAME_KEPT]}.{tag}.",
                                 suffix=".partial", dir=target.parent))


def _stale(name: str) -> bool:
    match = _PARTIAL.match(name)
    if match is None:
        return False  # not ours, or of the old unnamed kind: its writer is unknown
    host, boot, pid, start = match.groups()
    if (host, boot) != _machine():
        return host == _machine()[0]  # this machine, an earlier boot: gone
    return not _alive(int(pid), int(start))


def remove_stale_partials(directory: Path) -> list[str]:
    """Remove the partials in ``directory`` whose writers are gone; return their names."""
    removed = []
    try:
        entries = [e for e in os.scandir(directory) if e.name.startswith(".")
                   and e.name.endswith(".partial")]
    except OSError:
        return removed
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        # Only directories of ours, never a link (rmtree would not follow it anyway).
        if (stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
                and _stale(entry.name)):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed
