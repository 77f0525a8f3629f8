"""At a window's start: merges Coursedog is still running on its environments.

Switching the schedules off keeps the next merges from starting; Coursedog documents nothing
of what it does to a merge already running, which may go on writing to the SIS. So at the
start the merge history is read once (bounded by ``merge_watch.start_read_seconds``, and at
most ``READS_PER_SWITCH * switches_per_host`` reads at once on a Coursedog host), the thread
is told which merge runs and since when, and a ``watch_running_merge`` action looks every
``merge_watch.running_every`` until it finishes. The switch-off waits for that message at a
gate (bot.services.start_gates), never longer than the gate's bound.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.due_payloads import RunningMergeWatch
from bot.services import timetable
from bot.services.schedule_api import ScheduleApi
from bot.services.start_gates import StartGates
from coursedog.errors import CoursedogError
from coursedog.models import MergeRun
from coursedog.wire import SCHEDULE_TYPES
from storage import audit

log = logging.getLogger(__name__)
# A start reads the history of every kind of merge (coursedog.wire.SCHEDULE_TYPES): any of
# them may be running. So many reads at once per switch a host allows (switches_per_host).
READS_PER_SWITCH = len(SCHEDULE_TYPES)
# The job id a watch carries for a running merge the history gave none for: then the watch
# waits for no merge of its kind to be shown running.
NO_JOB_ID = "-"


@dataclass(frozen=True)
class Look:
    """What the merge history showed running on one environment, or why it was not read."""

    environment: str
    running: tuple[MergeRun, ...] = ()
    problem: str | None = None


def started(run: MergeRun) -> datetime | None:
    """When a merge started, if the history says (ISO 8601; a missing zone means UTC)."""
    if not run.started_at:
        return None
    try:
        at = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def running_in(runs: Sequence[MergeRun]) -> tuple[MergeRun, ...]:
    """The running merges of a history, each once (by job id where it has one)."""
    seen: set[object] = set()
    found = []
    for run in runs:
        key = (run.schedule_type, run.job_id) if run.job_id else run
        if run.running and key not in seen:
            seen.add(key)
            found.append(run)
    return tuple(found)


class RunningMerges:
    """Reads what is running at a start, and plans watching it to its end."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Clock,
        clients: Mapping[str, ScheduleApi],
        gates: StartGates | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._clients = clients
        self._hosts = settings.hosts()
        self._gates = gates or StartGates(settings.merge_watch.start_read_seconds)

    def hold(self, environments: Sequence[str]) -> Callable[[], None]:
        """Hold the switch-off of ``environments`` (bot.services.start_gates) until the
        returned function is called: once the thread has been told what runs."""
        return self._gates.hold(environments)

    def look(self, environments: Sequence[str]) -> list[Look]:
        """Read each environment's merge history, every kind, waiting no longer than the
        bound; at most ``READS_PER_SWITCH * switches_per_host`` reads at once on one Coursedog
        host (as bot.jobs.fan_out bounds the switches). An environment the bot cannot read is
        left out."""
        readable = [env for env in environments if env in self._clients]
        if not readable:
            return []
        bound = self._settings.merge_watch.start_read_seconds
        per_host = READS_PER_SWITCH * self._settings.switches_per_host
        futures: dict[tuple[str, str], Future[list[MergeRun]]] = {}
        queues: dict[str, deque[tuple[str, str, Future[list[MergeRun]]]]] = defaultdict(deque)
        for env in readable:
            for kind in SCHEDULE_TYPES:
                future: Future[list[MergeRun]] = Future()
                futures[env, kind] = future
                queues[self._hosts.get(env, f"env:{env}")].append((env, kind, future))
        width = sum(min(per_host, len(queue)) for queue in queues.values())
        pool = ThreadPoolExecutor(width, thread_name_prefix="merge-history")
        over = threading.Event()
        try:
            for queue in queues.values():
                for _ in range(min(per_host, len(queue))):
                    pool.submit(self._drain, queue, over)
            wait(futures.values(), timeout=bound)
            return [
                _result(env, [futures[env, kind] for kind in SCHEDULE_TYPES], bound)
                for env in readable
            ]
        finally:
            over.set()  # a read not started by the bound is not started at all
            pool.shutdown(wait=False)  # a read past the bound ends on its own, unheard

    def _drain(
        self, queue: deque[tuple[str, str, Future[list[MergeRun]]]], over: threading.Event
    ) -> None:
        """Read the history one host's reads ask for, one at a time, until none is left or
        the answer is no longer awaited."""
        while not over.is_set():
            try:
                env, kind, future = queue.popleft()
            except IndexError:
                return
            future.set_running_or_notify_cancel()
            try:
                future.set_result(self._clients[env].merge_history(kind, 5))
            except Exception as exc:  # told in the thread by _result
                future.set_exception(exc)

    def watch(self, window_id: int, looks: Sequence[Look]) -> None:
        """Record each merge found running at the window's start, and plan its first look."""
        running = [(look.environment, run) for look in looks for run in look.running]
        if not running:
            return
        now = self._clock.now()
        with self._sessions.begin() as session:
            for env, run in running:
                audit.add(
                    session,
                    at=now,
                    actor="system",
                    action="merge_running_at_start",
                    window_id=window_id,
                    environment=env,
                    detail=describe(run),
                )
                watch = RunningMergeWatch(
                    window_id, env, run.schedule_type, run.job_id or NO_JOB_ID, now, 1
                )
                at = now + self._settings.merge_watch.running_every
                timetable.plan_running_merge_watch(session, watch, at, now)


def _result(env: str, futures: list[Future[list[MergeRun]]], bound: float) -> Look:
    if not all(future.done() for future in futures):
        return Look(env, problem=f"no answer within {bound:g} s")
    try:
        return Look(env, running_in([run for future in futures for run in future.result()]))
    except Exception as exc:  # whatever the read raised, the start is still announced
        log.warning("merge history of %s unreadable at a start: %r", env, exc)
        return Look(env, problem=_named(exc))


def _named(exc: Exception) -> str:
    """The error, named: a Coursedog error says what went wrong; anything else says its kind."""
    if isinstance(exc, CoursedogError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def describe(run: MergeRun) -> str:
    """``nightly merge job merge-42 (RUNNING) since 2026-12-05T06:35:00Z``."""
    job = run.job_name or run.job_id or "with no job named"
    status = f" ({run.job_status})" if run.job_status else ""
    since = f" since {run.started_at}" if run.started_at else ", start not given"
    return f"{run.schedule_type} merge {job}{status}{since}"
