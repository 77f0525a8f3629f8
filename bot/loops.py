"""Background loops that outlive their failures, and the heartbeat each keeps.

Every pass of a loop runs under one guard (``run_pass``): an exception is logged with the
loop's name and counted on its ``Heartbeat``, never raised, and the loop backs off before its
next pass (a second at first, doubling on each failure in a row, never longer than its own
interval). A completed pass records its monotonic time, which /healthz and /metrics read.
KeyboardInterrupt and SystemExit are not caught.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger(__name__)

FIRST_BACKOFF = 1.0  # seconds after the first failure in a row, then doubled each time


class Incomplete(Exception):
    """A pass did not complete because a part of it failed, already logged and counted under
    that part's own heartbeat: the loop backs off without counting it twice."""


@dataclass(frozen=True)
class Pulse:
    """A heartbeat read at one moment (ages in seconds; None: not started, or no pass yet)."""

    name: str
    interval: float | None
    started_ago: float | None
    last_pass_ago: float | None
    failures: int
    failing: int
    last_error: str | None


class Heartbeat:
    """One loop's record: when it started, when its last pass completed, how often passes
    failed. ``interval`` is how often it means to complete a pass (None: only on demand)."""

    def __init__(
        self,
        name: str,
        interval: float | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._started: float | None = None
        self.last_pass: float | None = None
        self._failures = 0
        self._failing = 0
        self._last_error: str | None = None

    def started(self) -> None:
        """The loop's thread began."""
        with self._lock:
            self._started = self._monotonic()

    def completed(self) -> int:
        """A pass completed; returns how many had failed in a row before it."""
        with self._lock:
            self.last_pass = self._monotonic()
            failed, self._failing = self._failing, 0
        return failed

    def progressed(self) -> None:
        """A long pass made progress: it counts as recent as a completed one."""
        with self._lock:
            self.last_pass = self._monotonic()

    def failed(self, error: BaseException) -> int:
        """A pass failed with ``error``; returns how many have failed in a row."""
        with self._lock:
            self._failures += 1
            self._failing += 1
            self._last_error = error_name(error)
            return self._failing

    def read(self) -> Pulse:
        """What the heartbeat says now."""
        now = self._monotonic()
        with self._lock:
            return Pulse(
                name=self.name,
                interval=self.interval,
                started_ago=None if self._started is None else max(0.0, now - self._started),
                last_pass_ago=None if self.last_pass is None else max(0.0, now - self.last_pass),
                failures=self._failures,
                failing=self._failing,
                last_error=self._last_error,
            )


class Loops:
    """The heartbeats of one process's loops, in the order they were added."""

    def __init__(self) -> None:
        self._beats: list[Heartbeat] = []

    def add(self, *beats: Heartbeat) -> None:
        """Watch these heartbeats too."""
        self._beats.extend(beats)

    def __iter__(self) -> Iterator[Heartbeat]:
        return iter(list(self._beats))


def error_name(error: BaseException) -> str:
    """The kind of an error, safe to show anyone (its message may name hosts)."""
    if isinstance(error, BaseExceptionGroup):
        return ", ".join(dict.fromkeys(error_name(e) for e in error.exceptions))
    return type(error).__name__


def backoff(failing: int, interval: float) -> float:
    """Seconds to wait after ``failing`` failed passes in a row: doubling from a second (or
    the interval, if shorter), never longer than the interval."""
    first = min(FIRST_BACKOFF, interval)
    return min(interval, first * 2.0 ** max(0, min(failing - 1, 30)))


def run_pass(
    heartbeat: Heartbeat,
    work: Callable[[], object],
    *,
    retry_in: Callable[[int], float] | None = None,
) -> bool:
    """Run one pass of ``heartbeat``'s loop; returns whether it completed. A failure is
    logged with the loop's name and counted, never raised (``retry_in``: the wait the loop
    will make after so many failures in a row, for the log)."""
    try:
        work()
    except Incomplete:
        return False
    except Exception as exc:
        failing = heartbeat.failed(exc)
        then = f"; next try in {retry_in(failing):g}s" if retry_in is not None else ""
        if failing == 1:
            log.exception("background loop %s: a pass failed%s", heartbeat.name, then)
        else:  # the first failure's traceback is in the log; a long outage need not repeat it
            log.error(
                "background loop %s: a pass failed again (%d in a row): %s: %s%s",
                heartbeat.name,
                failing,
                error_name(exc),
                exc,
                then,
            )
        return False
    failed = heartbeat.completed()
    if failed:
        log.warning("background loop %s: a pass completed after %d failed", heartbeat.name, failed)
    return True


class BackgroundLoop:
    """Base of the worker, the scheduler and the App Home refresher: a named daemon thread
    that runs ``_step`` under ``run_pass`` until stopped, backing off after a failed one.

    Subclasses implement ``_step`` (wait for work, unless stopping, then do it) and read
    ``_stopping`` under ``_cond`` to know when to end.
    """

    thread_name = "sis-maint-background"

    def __init__(self, name: str, interval: float) -> None:
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.interval = interval
        self.heartbeat = Heartbeat(name, interval)

    @property
    def heartbeats(self) -> tuple[Heartbeat, ...]:
        """The heartbeats this loop keeps (its own first)."""
        return (self.heartbeat,)

    def start(self) -> None:
        """Run the loop in a daemon thread."""
        for beat in self.heartbeats:
            beat.started()
        self._thread = threading.Thread(
            target=self._keep_looping, name=self.thread_name, daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end after its current step, and wait for it."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        """Whether the loop's thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def _keep_looping(self) -> None:
        failing = 0
        while not self._stopping:
            if run_pass(self.heartbeat, self._step, retry_in=self._backoff):
                failing = 0
                continue
            failing += 1
            with self._cond:  # a stop cuts the wait short; a kick does not
                self._cond.wait_for(lambda: self._stopping, self._backoff(failing))

    def _backoff(self, failing: int) -> float:
        return backoff(failing, self.interval)

    def _step(self) -> None:
        raise NotImplementedError
