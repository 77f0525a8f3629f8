"""The background worker: runs the reconciler when the ledger changes and on a periodic tick.

One thread keeps three heartbeats: ``worker`` (a pass over the environments it was told about,
or on a tick over all in play), ``watchdog`` (every ``watchdog_interval``, a tick reads every
configured environment instead) and ``outbox`` (the reports the ledger owes Slack, offered
before every pass, and on a tick the approval cards too). A failed pass is retried after a
backoff, not at the next tick; a failed outbox holds up no environment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from bot.jobs.fan_out import FanOut, attempt
from bot.jobs.gathering import Gathering
from bot.loops import BackgroundLoop, Heartbeat, Incomplete, run_pass
from bot.services.reconciler import Reconciler
from bot.services.reports import Publish, Report

log = logging.getLogger(__name__)

__all__ = ["Publish", "Worker"]
# A pass over this many environments or more publishes their reports together once each has
# its outcome, so that a window over many of them gets one summary in its thread instead of a
# line for each.
BATCH_FROM = 3
# A pass that found another process's lease comes back this long after the lease runs out.
BUSY_MARGIN = 0.1


class Worker(BackgroundLoop):
    """One thread that reconciles environments it is told about, and all of them periodically."""

    thread_name = "sis-maint-worker"

    def __init__(
        self,
        reconciler: Reconciler,
        publish: Publish,
        *,
        owed: Callable[[], list[Report]],
        interval: float,
        environments: Iterable[str] = (),
        watchdog_interval: float = 300.0,
        chores: Callable[[], object] | None = None,
        fan_out: FanOut | None = None,
    ) -> None:
        """``owed``: the reports the ledger owes Slack (bot.services.outbox), for ``publish``;
        ``chores``: run on every periodic tick, beside the pass (work a stopped process left
        undone that is not an environment's, such as approval cards never posted);
        ``fan_out``: runs a pass's environments in parallel (None: one after another)."""
        super().__init__("worker", interval)
        self.watchdog = Heartbeat("watchdog", watchdog_interval)
        self.outbox = Heartbeat("outbox", interval)
        self._reconciler = reconciler
        self._publish = publish
        self._owed = owed
        self._all = sorted(environments)
        self._watchdog_interval = watchdog_interval
        self._last_watch = time.monotonic()
        self._dirty: set[str] = set()
        # Environments leased to another process: a pass again when the lease runs out
        # (time.monotonic() deadlines).
        self._retry: dict[str, float] = {}
        self._reading: set[str] = set()
        self._looking: set[str] = set()
        self._again = False  # a tick failed: run one as soon as the backoff allows
        self._busy = False
        self.chores = chores
        self._fan_out = fan_out

    @property
    def heartbeats(self) -> tuple[Heartbeat, ...]:
        """The worker's, the watchdog's and the outbox's."""
        return (self.heartbeat, self.watchdog, self.outbox)

    def kick(self, environments: Iterable[str], *, reading: bool = False) -> None:
        """Reconcile these environments as soon as possible.

        ``reading``: a decision on them was just recorded, so their schedules will be read;
        the pass starts each read as soon as it holds the lease.
        """
        with self._cond:
            envs = set(environments)
            self._dirty.update(envs)
            if reading:
                self._reading.update(envs)
            self._cond.notify_all()

    def look(self, environments: Iterable[str]) -> None:
        """Read these environments soon as the watchdog does (what people have there is kept
        for the windows about to start on them; see bot.services.evidence)."""
        with self._cond:
            envs = set(environments)
            self._dirty.update(envs)
            self._looking.update(envs)
            self._cond.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop, then the reconciler's readers."""
        super().stop(timeout)
        self._reconciler.close()
        if self._fan_out is not None:
            self._fan_out.close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued, owed again or running (for tests and orderly
        shutdown)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._dirty and not self._again and not self._busy, timeout
            )

    def environments_in_play(self) -> set[str]:
        """Environments that need a pass (held, waiting to be restored, or owed a comment)."""
        return self._reconciler.environments_in_play()

    def run_once(
        self,
        environments: Iterable[str] | None = None,
        *,
        reading: Iterable[str] = (),
        looking: Iterable[str] = (),
    ) -> list[Report]:
        """One synchronous pass over the given environments, or over all in play (``reading``:
        those whose schedules will be read, see kick; ``looking``: those to read even if idle,
        see look). Raises if any environment's failed."""
        run_pass(self.outbox, self._post_owed_reports)
        return self._reconcile(environments, frozenset(reading), frozenset(looking))

    def watch(self) -> list[Report]:
        """The watchdog: every configured environment, reporting unexplained outages."""
        run_pass(self.outbox, self._post_owed_reports)
        return self._watch()

    def _reconcile(
        self,
        environments: Iterable[str] | None,
        reading: frozenset[str] = frozenset(),
        looking: frozenset[str] = frozenset(),
    ) -> list[Report]:
        envs = (
            set(environments)
            if environments is not None
            else self._reconciler.environments_in_play()
        )
        return self._pass(envs, watch=looking, reading=reading)

    def _watch(self) -> list[Report]:
        reports = self._pass(set(self._all), watch=frozenset(self._all))
        self._last_watch = time.monotonic()  # a failed watch is tried again after the backoff
        return reports

    def _pass(
        self, envs: set[str], *, watch: frozenset[str], reading: frozenset[str] = frozenset()
    ) -> list[Report]:
        # A few environments publish each report as soon as it is committed; many publish
        # together, once each has its outcome (see BATCH_FROM).
        gathering = Gathering(envs, self._publish) if len(envs) >= BATCH_FROM else None

        def one(env: str) -> list[Report]:
            try:
                return self._reconciler.reconcile(
                    env,
                    watch=env in watch,
                    publish=gathering.publish_for(env) if gathering else self._publish,
                    read_early=env in reading,
                )
            finally:
                if gathering is not None:
                    gathering.done(env)

        if self._fan_out is not None:
            outcomes = self._fan_out.run(envs, one)
        else:
            outcomes = {env: attempt(one, env) for env in sorted(envs)}
        reports: list[Report] = []
        errors: dict[str, Exception] = {}
        for env, outcome in outcomes.items():
            if isinstance(outcome, Exception):  # one failure must not hold up the others
                errors[env] = outcome
            else:
                reports.extend(outcome)
        self._note_busy()
        if errors:  # Coursedog's errors are reported by the pass: these are the ledger's, or bugs
            raise ExceptionGroup(f"reconciling {', '.join(errors)} failed", list(errors.values()))
        return reports

    def _post_owed_reports(self) -> None:
        owed = self._owed()
        if owed:  # recorded with their outcome, but a crash or Slack kept them unposted
            self._publish(owed)

    def _clear_outbox(self) -> None:
        """The reports, then the approval cards, the ledger owes Slack."""
        self._post_owed_reports()
        if self.chores is not None:
            self.chores()

    def _step(self) -> None:
        with self._cond:
            self._cond.wait_for(
                lambda: self._dirty or self._again or self._stopping or self._retry_due(),
                self._wait(),
            )
            if self._stopping:
                return
            due = self._retry_due()
            for env in due:
                del self._retry[env]
            self._dirty.update(due)
            envs, reading = set(self._dirty), frozenset(self._reading)
            looking = frozenset(self._looking)
            self._dirty.clear()
            self._reading.clear()
            self._looking.clear()
            tick = not envs
            self._again = self._again and not tick
            self._busy = True
        try:
            if tick:
                self._tick()
            else:
                self.run_once(envs, reading=reading, looking=looking)
        except Exception:
            with self._cond:  # what failed is done again once the backoff allows
                self._again = self._again or tick
                self._dirty.update(envs)
                self._looking.update(looking)
            raise
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _wait(self) -> float:
        """Until the next periodic pass, or the next lease of another process running out."""
        if not self._retry:
            return self.interval
        return max(0.0, min(self.interval, min(self._retry.values()) - time.monotonic()))

    def _retry_due(self) -> list[str]:
        now = time.monotonic()
        return [env for env, at in self._retry.items() if at <= now]

    def _note_busy(self) -> None:
        """Plan a pass where another process's lease runs out (a little after, so it has)."""
        busy = self._reconciler.busy()
        if not busy:
            return
        now = time.monotonic()
        with self._cond:
            for env, seconds in busy.items():
                at = now + min(seconds + BUSY_MARGIN, self.interval)
                self._retry[env] = min(self._retry.get(env, at), at)
            self._cond.notify_all()

    def _tick(self) -> None:
        run_pass(self.outbox, self._clear_outbox)  # its failure holds up no environment
        if time.monotonic() - self._last_watch < self._watchdog_interval:
            self._reconcile(None)
        elif not run_pass(self.watchdog, self._watch):
            raise Incomplete("the watchdog's pass failed")
