"""Hostile cases run many to a process, each judged on its own.

A subprocess per case spends most of its time importing numpy, pydicom and SimpleITK. A
:class:`Worker` is one ``dicomreg`` process (this file run as a script) that runs case after
case through :func:`dicomreg.core.cli.main.main`, each with its own working directory and
environment, its file descriptors 1 and 2 captured (ITK and HDF5 write to descriptor 2 past
Python), every warning shown (numpy's and ITK's text must never reach a user), and anything
that escapes ``main`` printed as the traceback it is. It still is a true subprocess, under
``RLIMIT_AS``: a case that crashes it or does not answer within the timeout is a crash or a
hang, and the next case gets a new worker.

The protocol: one JSON request per line on the worker's stdin (``args``, ``cwd``, ``env``),
one JSON answer per line on a descriptor the worker keeps for itself (``rc``, ``stdout``,
``stderr``).
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import subprocess
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

MEMORY_LIMIT = 2 << 30  # bytes of address space a worker may map


@dataclass
class Answer:
    """What one case did: its exit status (None for a crash or a hang) and its output."""

    rc: int | None
    stdout: str
    stderr: str
    ended: str = ""  # "crash" or "hang" when the worker did not answer


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


class Worker:
    """A worker process, started on first use and again after a crash or a hang."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.process: subprocess.Popen | None = None

    def _start(self) -> None:
        read, write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, __file__, str(write)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write,),
            preexec_fn=_limit_memory, text=True)
        os.close(write)
        self.answers = os.fdopen(read, "r", encoding="utf-8", errors="replace")

    def run(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Answer:
        """Run ``dicomreg ARGS`` in ``cwd`` with ``env`` added to the environment."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(json.dumps({"args": args, "cwd": str(cwd),
                                             "env": env or {}}) + "\n")
        self.process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(self.answers, selectors.EVENT_READ)
            ready = selector.select(self.timeout)
        line = self.answers.readline() if ready else ""
        if line:
            return Answer(**json.loads(line))
        ended = "hang" if not ready else "crash"
        code = self.stop()
        return Answer(None, "", f"worker ended: {ended} (status {code})", ended)

    def stop(self) -> int | None:
        """End the worker (killed if it does not end on its own)."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        try:
            process.stdin.close()
        except OSError:
            pass
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        self.answers.close()
        return code


OUTCOMES = ("refused", "succeeded", "traceback", "crash", "hang", "other")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too: a partial or temporary is a failure),
    with its content."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
            for p in sorted(folder.rglob("*"))}


def judge(command: str, answer: Answer, out: Path, before: dict[str, bytes]) -> str:
    """The outcome of one case (one of ``OUTCOMES``): a clean one-line refusal (exit 1, one
    line of ours, ``out`` exactly as it was), a success (exit 0, nothing on stderr, every new
    or changed file valid, nothing hidden left), or what went wrong."""
    lines = answer.stderr.splitlines()
    if answer.ended:
        return answer.ended
    if "Traceback" in answer.stderr:
        return "traceback"
    if answer.rc is None or answer.rc < 0:
        return "crash"
    after = snapshot(out)
    if command == "validate" and answer.rc == 1 and not lines and answer.stdout.strip():
        return "refused" if after == before else "other"  # the problems on stdout, exit 1
    if answer.rc == 1:
        one_line = len(lines) == 1 and lines[0].startswith(f"dicomreg {command}: error: ")
        return "refused" if one_line and after == before else "other"
    if answer.rc == 0 and not lines:
        changed = [out / name for name, content in after.items() if before.get(name) != content]
        hidden = [name for name in after if Path(name).name.startswith(".")]
        if not hidden and all(_valid(path) for path in changed):
            return "succeeded"
    return "other"


def _valid(path: Path) -> bool:
    if path.suffix == ".dcm":
        import pydicom

        return pydicom.dcmread(path).Modality == "REG"
    import SimpleITK as sitk

    return sitk.ReadImage(str(path)).GetNumberOfPixels() > 0


def _run_one(request: dict) -> dict:
    from dicomreg.core.cli.main import main
    from dicomreg.core.input.limits import ENVIRONMENT_VARIABLE, set_max_field_bytes

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.pop(ENVIRONMENT_VARIABLE, None)
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        kept = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always")  # each case shows its own warnings
                try:
                    rc = main(request["args"])
                except SystemExit as error:  # argparse's usage errors
                    rc = error.code if isinstance(error.code, int) else 1
                except BaseException:  # noqa: BLE001 - a traceback is the verdict
                    traceback.print_exc()
                    rc = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(kept[0], 1)
            os.dup2(kept[1], 2)
            os.close(kept[0])
            os.close(kept[1])
            set_max_field_bytes(None)
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        out.seek(0)
        err.seek(0)
        return {"rc": rc, "stdout": out.read().decode("utf-8", "replace"),
                "stderr": err.read().decode("utf-8", "replace")}


def _serve(answers_fd: int) -> None:
    import numpy  # noqa: F401
    import pydicom  # noqa: F401
    import SimpleITK  # noqa: F401

    import dicomreg.core.cli.main  # noqa: F401 - imported once, before the first case

    with os.fdopen(answers_fd, "w", encoding="utf-8") as answers:
        for line in sys.stdin:
            answers.write(json.dumps(_run_one(json.loads(line))) + "\n")
            answers.flush()


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
