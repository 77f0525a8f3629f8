"""Work a listener leaves for after its acknowledgement.

The app runs with ``process_before_response=True``: a listener runs on the thread that serves
the request, and Slack gets the acknowledgement the moment the listener returns. A listener
therefore does only what its acknowledgement must say (a ledger change, a check), acknowledges,
and hands everything slow (posting cards and thread replies, reading Coursedog) to ``Later``,
which runs it on the listener pool. A slow or hanging Slack or Coursedog then never delays an
acknowledgement, and requests never wait for a free pool thread before they are answered.

Work that comes once per request and that nobody waits on to the millisecond (an approval
card) can also wait for a lull (``Later.when_quiet``): it then starts once no request has been
in progress or come in for a moment, or a bounded time after it was left. In a burst of
requests the process answers them first instead of sharing its interpreter with their cards,
which Slack does not time; Slack drops an acknowledgement that comes later than 3 seconds.

Neither the pool's work nor the thread that waits for lulls can be ended by an error: each
failure is logged and counted on a heartbeat (``listeners``, ``lull``) that /metrics shows.
"""

from __future__ import annotations

import contextvars
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial

from slack_bolt import Respond

from bot.errors import SisMaintError
from bot.loops import Heartbeat, run_pass
from bot.slack.errors import answering_errors
from storage.replay import Replayed

log = logging.getLogger(__name__)

Work = Callable[[], None]

# No request in progress or arriving for this long is a lull; a card waits for one at most
# MAX_WAIT_SECONDS after its request.
QUIET_SECONDS = 0.05
MAX_WAIT_SECONDS = 2.0


class Lull:
    """Tells when the front door has had no request, in progress or arriving, for a moment."""

    def __init__(
        self,
        quiet: float = QUIET_SECONDS,
        at_most: float = MAX_WAIT_SECONDS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._quiet = quiet
        self._at_most = at_most
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._serving = 0
        self._last = -math.inf

    def arrived(self) -> None:
        """A request came in (called for every request, before its listener runs)."""
        with self._lock:
            self._serving += 1
            self._last = self._monotonic()

    def answered(self) -> None:
        """A request that ``arrived`` has been answered."""
        with self._lock:
            self._serving -= 1
            self._last = self._monotonic()

    @property
    def serving(self) -> int:
        """How many requests are in progress."""
        return self._serving

    @property
    def last_activity(self) -> float:
        """When the last request came in or was answered (monotonic; -inf before the first)."""
        return self._last

    def now(self) -> float:
        """The monotonic time the lull is measured in."""
        return self._monotonic()

    def remaining(self, since: float) -> float:
        """Seconds until work left at ``since`` may start: until no request has been in
        progress or come in for ``quiet`` seconds (while one is in progress, at least that
        long: ask again then), or until ``at_most`` seconds after ``since``; 0 when it may
        start now."""
        now = self._monotonic()
        with self._lock:
            calm_at = now + self._quiet if self._serving else self._last + self._quiet
        return max(0.0, min(calm_at, since + self._at_most) - now)


@dataclass(frozen=True)
class _Waiting:
    """Work left for a lull, with when it was left and the context it was left in."""

    since: float
    respond: Respond
    work: Work
    context: contextvars.Context


class Later:
    """Runs work after the acknowledgement; its errors are explained to whoever acted."""

    def __init__(self, executor: Executor, lull: Lull | None = None) -> None:
        self._executor = executor
        self.lull = lull or Lull(0.0, 0.0)
        self._waiting: deque[_Waiting] = deque()
        self._busy = False  # the waiting thread holds an item it has not handed on yet
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        # Failures of the work on the pool (those a person's mistake did not cause), and of
        # the thread that hands work on at a lull. Both work on demand: no interval.
        self.listeners = Heartbeat("listeners")
        self.lull_heartbeat = Heartbeat("lull")

    @property
    def heartbeats(self) -> tuple[Heartbeat, ...]:
        """The pool's and the lull thread's."""
        return (self.listeners, self.lull_heartbeat)

    @property
    def executor(self) -> Executor:
        """The listener pool the work runs on."""
        return self._executor

    def __call__(self, respond: Respond, work: Work) -> None:
        """Run ``work`` on the pool; an error is told through ``respond``, never raised."""
        self._executor.submit(self._telling(respond, work))

    def quietly(self, work: Work) -> None:
        """Run ``work`` on the pool when nobody waits for an answer (e.g. an event)."""

        def run() -> None:
            try:
                work()
            except Replayed as copy:  # a copy of a request that has acted: nothing to do
                log.info("a copy of a request did not act again: %s", copy)

        self._executor.submit(lambda: run_pass(self.listeners, run))  # nobody to tell: the log

    def when_quiet(self, respond: Respond, work: Work) -> None:
        """Like calling ``Later``, but ``work`` starts at the next lull (see ``Lull``), in the
        order it was left. Nothing holds a pool thread while it waits."""
        item = _Waiting(self.lull.now(), respond, work, contextvars.copy_context())
        with self._cond:
            if not self._closed:
                self._waiting.append(item)
                self._cond.notify_all()
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._hand_on, name="sis-maint-lull", daemon=True
                    )
                    self._thread.start()
                return
        self._submit(item)  # closing: no more waiting

    def wait_idle(self, timeout: float) -> bool:
        """Block until no work waits for a lull (it is then on the pool); False on timeout."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._waiting and not self._busy, max(0.0, timeout)
            )

    def close(self) -> None:
        """Hand everything still waiting to the pool at once, and stop waiting for lulls."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _hand_on(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._waiting or self._closed)
                if not self._waiting:
                    return
                item = self._waiting.popleft()
                self._busy = True
            try:
                # A failure (the pool is gone: shutting down) is logged and counted; the ledger
                # still owes what could not be started, and the thread goes on with the next.
                run_pass(self.lull_heartbeat, partial(self._hand_on_one, item))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _hand_on_one(self, item: _Waiting) -> None:
        self._wait_for_lull(item.since)
        self._submit(item)

    def _wait_for_lull(self, since: float) -> None:
        with self._cond:  # close() cuts the wait short
            while not self._closed and (left := self.lull.remaining(since)) > 0:
                self._cond.wait(left)

    def _submit(self, item: _Waiting) -> None:
        run = self._telling(item.respond, item.work)
        self._executor.submit(lambda: item.context.run(run))  # under the request's id

    def _telling(self, respond: Respond, work: Work) -> Work:
        """``work``, with any error it raises told through ``respond``; an error a person's
        mistake did not cause is counted too."""

        def run() -> None:
            with answering_errors(respond):
                try:
                    work()
                except (SisMaintError, Replayed):  # a person's mistake, or a copy: no failure
                    raise
                except Exception as exc:
                    self.listeners.failed(exc)
                    raise

        return run
