"""Work off the GUI thread: a save, a scan or a load, with progress and cancel.

The work runs in a thread of its own and reports through Qt signals, which Qt delivers in
the GUI thread; the panel stays responsive, and a cancel is a request the work honours at
its next progress report (a cancelled save leaves no file).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QObject, Signal

from dicomreg.core.errors import DicomRegError
from dicomreg.core.reg import SaveCancelledError

__all__ = ["BackgroundTask", "wait_until"]


def wait_until(condition: Callable[[], Any], seconds: float = 60) -> None:
    """Process Qt's events until ``condition()`` holds (scripts and tests that drive a
    window as a person does); SystemExit naming the condition after ``seconds``."""
    import time

    from qtpy.QtTest import QTest

    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {condition}")
        QTest.qWait(50)


class BackgroundTask(QObject):
    """Runs ``work(progress)`` in a thread; ``progress(fraction)`` returns False once
    cancelled."""

    progressed = Signal(float)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, work: Callable[[Callable[[float], bool]], Any],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the work."""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report."""
        self._cancel.set()

    def wait(self, seconds: float | None = None) -> bool:
        """Wait for the work to end; whether it has."""
        if self._thread is not None:
            self._thread.join(seconds)
        return self._thread is None or not self._thread.is_alive()

    @property
    def running(self) -> bool:
        """Whether the work is under way."""
        return self._thread is not None and self._thread.is_alive()

    def _progress(self, fraction: float) -> bool:
        self.progressed.emit(fraction)
        return not self._cancel.is_set()

    def _run(self) -> None:
        try:
            result = self._work(self._progress)
        except SaveCancelledError:
            self.cancelled.emit()
        except DicomRegError as error:
            self.failed.emit(str(error))
        except Exception as error:  # a bug: shown, never swallowed
            self.failed.emit(f"internal error: {type(error).__name__}: {error}")
        else:
            self.done.emit(result)
