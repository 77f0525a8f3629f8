"""Schedules read while a decision is still being recorded, for the pass that follows it.

A decision that will have environments switched (an approval that starts a window now, an
end) tells this module from inside its transaction. For each of those environments whose
lease was given back (not merely run out: a holder past its time may still be writing), the
read of the schedule starts there and then, so the Coursedog round trip runs while the
decision commits and the worker takes the lease, instead of after.

The pass that then takes the lease uses the read only if it is as good as one of its own: the
lease's epoch must have moved by exactly one since the read started (nobody, in this process
or another, took the lease in between, so nobody wrote), and the answer must be moments old
(the pass writes over what it read; an edit a person made in Merge Settings meanwhile would be
lost). Otherwise the read is dropped and the pass reads again, as it would have anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial
from typing import Protocol

from sqlalchemy.orm import Session

from coursedog.models import ScheduleSnapshot
from storage import leases

log = logging.getLogger(__name__)

# An answer older than this when its pass takes the lease is read again.
FRESH_SECONDS = 0.5


class Reader(Protocol):
    """What a read ahead needs of a Coursedog client."""

    def read_schedule(self) -> ScheduleSnapshot: ...


class _Ahead:
    """One read started ahead: the lease's epoch then, the read, when it was answered, and
    whether a pass has had it (used or dropped)."""

    __slots__ = ("answered", "epoch", "snapshot", "taken")

    def __init__(self, epoch: int, snapshot: Future[ScheduleSnapshot]) -> None:
        self.epoch = epoch
        self.snapshot = snapshot
        self.answered: float | None = None
        self.taken = False


class ReadAhead:
    """Reads started before a lease is held, each handed to the next pass on its environment."""

    def __init__(
        self,
        clients: Mapping[str, Reader],
        *,
        fresh_seconds: float = FRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        executor: Executor | None = None,
    ) -> None:
        self._clients = clients
        self._fresh = fresh_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._newest: dict[str, _Ahead] = {}  # per environment
        self._closed = False
        # One read ahead per environment is under way at most (see start).
        self._executor = executor or ThreadPoolExecutor(
            max_workers=max(1, len(clients)), thread_name_prefix="sis-maint-ahead"
        )

    def start(self, session: Session, environments: Sequence[str]) -> None:
        """Inside a decision's transaction: read the environments whose lease is free."""
        readable = [env for env in environments if env in self._clients]
        free = leases.released_leases(session, readable)
        with self._lock:
            if self._closed:  # shutting down: the pass, if any, reads for itself
                return
            for env, epoch in free.items():
                newest = self._newest.get(env)
                if newest is not None and not newest.snapshot.done():
                    # Under way: it serves this decision too if it can, and a Coursedog slow
                    # to answer is not asked the same again.
                    continue
                if (
                    newest is not None
                    and not newest.taken
                    and newest.epoch == epoch
                    and self._fresh_enough(newest)
                ):
                    continue  # answered moments ago, and nobody took the lease since
                ahead = _Ahead(epoch, self._executor.submit(self._clients[env].read_schedule))
                ahead.snapshot.add_done_callback(partial(self._answered, ahead, env))
                self._newest[env] = ahead

    def take(self, environment: str, epoch: int | None) -> Future[ScheduleSnapshot] | None:
        """The read started ahead for a pass that took the lease at ``epoch`` (None: did not),
        if it is as good as the pass's own; dropped either way."""
        with self._lock:
            ahead = self._newest.get(environment)
            if ahead is None or ahead.taken:
                return None
            ahead.taken = True
        if epoch is None:
            return None
        if ahead.epoch + 1 != epoch:
            log.info("the lease on %s changed hands since the read ahead; read again", environment)
            return None
        if not self._fresh_enough(ahead):
            return None
        return ahead.snapshot

    def close(self) -> None:
        """Start no more reads; a read under way finishes on its own."""
        with self._lock:
            self._closed = True
            for ahead in self._newest.values():
                ahead.taken = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _fresh_enough(self, ahead: _Ahead) -> bool:
        answered = ahead.answered
        if answered is None:  # not answered yet: the pass waits for the answer
            return True
        return self._monotonic() - answered < self._fresh

    def _answered(self, ahead: _Ahead, env: str, _read: Future[ScheduleSnapshot]) -> None:
        ahead.answered = self._monotonic()
        if not ahead.snapshot.cancelled() and ahead.snapshot.exception() is not None:
            # The pass that takes it reports the failure; one that is dropped only leaves this.
            log.debug("reading %s ahead failed: %s", env, ahead.snapshot.exception())
