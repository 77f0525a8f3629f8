"""A named daemon thread with a condition to wake it and an orderly stop."""

from __future__ import annotations

import threading


class BackgroundLoop:
    """Base of the worker, the scheduler and the App Home refresher.

    Subclasses implement ``_loop`` and read ``_stopping`` under ``_cond`` to know when to end.
    """

    thread_name = "sis-maint-background"

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run ``_loop`` in a daemon thread."""
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end after its current step, and wait for it."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        raise NotImplementedError
