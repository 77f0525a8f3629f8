"""The scheduler: runs due actions from the ledger, each exactly once, on any number of replicas.

Claiming happens in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, an
immediate write transaction on SQLite). The action then runs outside that transaction; its
ledger effect commits together with the action's completion, and only if the lease epoch is
still this owner's, so a process that was paused past its lease changes nothing.

A handler reads what its action carries with ``Lease.payload``; a payload that does not read
as its kind's (bot.domain.due_payloads) fails the action at once, as a person must look.

A claimed batch runs in lanes on a few threads: the actions of one window (or, for actions of no
window, of one environment or one kind) run one after another in due order, so a window's
reminder still comes before its end, while different windows wait on Slack and the database
side by side. The next batch is claimed once the whole batch has run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot import crashpoint
from bot.clock import Clock
from bot.domain.due_payloads import BadPayload, P, read
from bot.logs import log_context, new_request_id
from bot.loops import BackgroundLoop
from storage import due
from storage.due import ClaimedAction
from storage.states import DueStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class LeaseLost(Exception):
    """Another owner took the action over; this run must change nothing."""


class Lease:
    """Handed to an action's handler: the one way to commit the action's ledger effect."""

    def __init__(self, scheduler: Scheduler, action: ClaimedAction) -> None:
        self._scheduler = scheduler
        self.action = action
        self.committed = False

    def payload(self, kind: type[P]) -> P:
        """What the action carries, as ``kind``; BadPayload when it does not read as one."""
        return read(kind, self.action.payload)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work that also completes the action; raises LeaseLost if not ours."""
        with self._scheduler.sessions.begin() as session:
            row = due.held(session, self.action, self._scheduler.owner)
            if row is None:
                raise LeaseLost(f"action {self.action.id} is no longer leased to this process")
            yield session
            due.finish(row, self._scheduler.clock.now())
        self.committed = True


Handler = Callable[[Lease], None]


class Doorbell:
    """Where services say they added a due action, and where the scheduler's loop sleeps.

    Made before both, so the services that add actions and the scheduler that runs them
    (whose handlers need those services) are each built with it, not with each other.
    """

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.rung = False
        # While the loop sleeps: when it will look at the ledger next (it may sleep until then).
        self.next_look: datetime | None = None

    def ring(self, due_at: datetime | None = None) -> bool:
        """An action due at ``due_at`` was added: wake the loop now, unless it already means
        to look by then (most actions are due hours ahead). Returns whether it was woken."""
        with self.condition:
            if due_at is not None and self.next_look is not None and due_at >= self.next_look:
                return False
            self.rung = True
            self.condition.notify_all()
            return True

    def added(self, due_at: datetime | None) -> None:
        """What services call after adding actions (``due_at`` None: none was added)."""
        if due_at is not None:
            self.ring(due_at)


class Scheduler(BackgroundLoop):
    """Runs due actions; wakes on its poll interval and whenever a near action is added."""

    thread_name = "sis-maint-scheduler"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        owner: str,
        poll_seconds: float = 5.0,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 50,
        threads: int = 1,
        on_give_up: Callable[[ClaimedAction, str], None] | None = None,
        doorbell: Doorbell | None = None,
    ) -> None:
        """``doorbell``: where the services that add due actions ring (made before both)."""
        super().__init__("scheduler", poll_seconds)
        self.sessions = sessions
        self.clock = clock
        self.owner = owner
        self._handlers = handlers
        self._lease = lease
        self._batch = batch
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._on_give_up = on_give_up
        self._doorbell = doorbell or Doorbell()
        self._cond = self._doorbell.condition  # the loop sleeps where the doorbell rings
        # Set while the loop sleeps (lets tests and health checks see it is idle).
        self.asleep = threading.Event()

    def wake(self, due_at: datetime | None = None) -> bool:
        """An action due at ``due_at`` was added: see ``Doorbell.ring``."""
        return self._doorbell.ring(due_at)

    def run_due(self) -> int:
        """Run everything due now; returns how many actions ran."""
        ran = 0
        while not self._stopping:
            with self.sessions.begin() as session:
                claimed = due.claim_due(
                    session,
                    owner=self.owner,
                    now=self.clock.now(),
                    lease=self._lease,
                    limit=self._batch,
                )
            self.heartbeat.progressed()  # found work or none: either is progress
            if not claimed:
                return ran
            crashpoint.reached("claimed")
            for action in claimed:
                crashpoint.reached(f"claimed:{action.kind}")  # e.g. claimed:end
            ran += self._run_lanes(in_lanes(claimed))
        return ran

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop. Actions in progress finish; claimed ones not yet begun are left to
        their leases, which another process (or this one, restarted) takes over once they have
        run out, as after a crash."""
        with self._cond:
            self._stopping = True
            if self._pool is not None:
                self._pool.shutdown(wait=False)
        super().stop(timeout)

    def _run_lanes(self, lanes: Sequence[Sequence[ClaimedAction]]) -> int:
        """Run the lanes side by side, wait for all of them; how many actions ran."""
        if self._threads == 1 or len(lanes) == 1:
            return sum(self._run_lane(lane) for lane in lanes)
        with self._cond:
            if self._stopping:
                return 0
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self._threads, thread_name_prefix="sis-maint-action"
                )
            running = [self._pool.submit(self._run_lane, lane) for lane in lanes]
        # _run keeps each action's failure to that action; giving one back needs the ledger,
        # which may be gone. Every lane ends before the pass does, and every failure is raised.
        wait(running)
        errors = [e for lane in running if isinstance(e := lane.exception(), Exception)]
        if errors:
            raise ExceptionGroup("a lane of due actions failed", errors)
        return sum(lane.result() for lane in running)

    def _run_lane(self, lane: Sequence[ClaimedAction]) -> int:
        ran = 0
        for action in lane:
            if self._stopping:
                break
            with log_context(
                request_id=new_request_id(),
                action_id=action.id,
                action=action.kind,
                window_id=action.window_id,
            ):
                self._run(action)
            self.heartbeat.progressed()  # a long batch is progress too
            ran += 1
        return ran

    def seconds_until_next(self) -> float:
        """How long the loop may sleep: until the next due time, at most one poll interval."""
        with self.sessions.begin() as session:
            when = due.next_due_at(session)
        if when is None:
            return self.interval
        return max(0.0, min(self.interval, (when - self.clock.now()).total_seconds()))

    def _run(self, action: ClaimedAction) -> None:
        handler = self._handlers.get(action.kind)
        lease = Lease(self, action)
        try:
            if handler is None:
                raise LookupError(f"no handler for action kind {action.kind!r}")
            handler(lease)
            if not lease.committed:
                with lease.transaction():
                    pass
        except LeaseLost as exc:
            log.warning("%s", exc)
        except BadPayload as exc:  # no later attempt would read it better
            log.error("action %s (%s) carries a bad payload: %s", action.id, action.kind, exc)
            self._give_back(action, exc, retry=False)
        except Exception as exc:
            log.exception("action %s (%s) failed", action.id, action.kind)
            self._give_back(action, exc)

    def _give_back(self, action: ClaimedAction, exc: Exception, *, retry: bool = True) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = due.held(session, action, self.owner)
            if row is None:
                return
            error = f"{type(exc).__name__}: {exc}"[:500]
            gave_up = not retry or action.attempts >= MAX_ATTEMPTS
            if gave_up:
                due.finish(row, now, status=DueStatus.FAILED, error=error)
            else:
                due.retry_later(row, now + timedelta(seconds=15 * 2**action.attempts), error)
        if gave_up and self._on_give_up is not None:
            self._on_give_up(action, error)

    def _step(self) -> None:
        # A failure (the database may be unreachable) backs off, then looks again at once.
        self.run_due()
        sleep = self.seconds_until_next()
        bell = self._doorbell
        with self._cond:
            if not bell.rung and not self._stopping:
                bell.next_look = self.clock.now() + timedelta(seconds=sleep)
                self.asleep.set()
                self._cond.wait(sleep)
                self.asleep.clear()
                bell.next_look = None
            bell.rung = False


def in_lanes(claimed: Sequence[ClaimedAction]) -> list[list[ClaimedAction]]:
    """The claimed actions in lanes that may run side by side, each in claim (due) order: one
    lane per window, then per environment, then per kind, for actions that have none of those."""
    lanes: dict[Hashable, list[ClaimedAction]] = {}
    for action in claimed:
        lanes.setdefault(lane_of(action), []).append(action)
    return list(lanes.values())


def lane_of(action: ClaimedAction) -> Hashable:
    """Actions with the same lane run one after another."""
    if action.window_id is not None:
        return ("window", action.window_id)
    if action.environment is not None:
        return ("environment", action.environment)
    return ("kind", action.kind)
