"""The background worker: runs the reconciler when the ledger changes and on a periodic tick."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from bot.background import BackgroundLoop
from bot.services.reconciler import Reconciler
from bot.services.reports import Publish, Report

log = logging.getLogger(__name__)

__all__ = ["Publish", "Worker"]


class Worker(BackgroundLoop):
    """One thread that reconciles environments it is told about, and all of them periodically."""

    thread_name = "sis-maint-worker"

    def __init__(
        self,
        reconciler: Reconciler,
        publish: Publish,
        *,
        interval: float,
        environments: Iterable[str] = (),
        watchdog_interval: float = 300.0,
    ) -> None:
        super().__init__()
        self._reconciler = reconciler
        self._publish = publish
        self._interval = interval
        self._all = sorted(environments)
        self._watchdog_interval = watchdog_interval
        self._last_watch = time.monotonic()
        self._dirty: set[str] = set()
        self._reading: set[str] = set()
        self._looking: set[str] = set()
        self._busy = False
        # Run on every periodic tick, beside the pass: work a stopped process left undone
        # that is not an environment's (approval cards never posted).
        self.chores: Callable[[], object] | None = None

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

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or running (for tests and orderly shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._dirty and not self._busy, timeout)

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
        those whose schedules will be read, see kick; ``looking``: those to read even if
        idle, see look)."""
        envs = (
            set(environments)
            if environments is not None
            else self._reconciler.environments_in_play()
        )
        return self._pass(envs, watch=frozenset(looking), reading=frozenset(reading))

    def watch(self) -> list[Report]:
        """The watchdog: every configured environment, reporting unexplained outages."""
        self._last_watch = time.monotonic()
        return self._pass(set(self._all), watch=frozenset(self._all))

    def _pass(
        self, envs: set[str], *, watch: frozenset[str], reading: frozenset[str] = frozenset()
    ) -> list[Report]:
        reports: list[Report] = []
        try:
            owed = self._reconciler.owed_reports()
            if owed:  # recorded with their outcome, but a crash or Slack kept them unposted
                self._publish(owed)
        except Exception:
            log.exception("posting owed reports failed")
        for env in sorted(envs):
            try:
                # The pass publishes its reports itself, as soon as each is committed.
                found = self._reconciler.reconcile(
                    env, watch=env in watch, publish=self._publish, read_early=env in reading
                )
                reports.extend(found)
            except Exception:
                # A bug or a database outage must not kill the worker; the next tick retries.
                log.exception("reconciling %s failed", env)
        return reports

    def _chores(self) -> None:
        if self.chores is None:
            return
        try:
            self.chores()
        except Exception:  # the next tick tries again
            log.exception("the periodic chores failed")

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._dirty or self._stopping, self._interval)
                if self._stopping:
                    return
                envs, reading = set(self._dirty), set(self._reading)
                looking = set(self._looking)
                self._dirty.clear()
                self._reading.clear()
                self._looking.clear()
                tick = not envs
                self._busy = True
            try:
                if tick and time.monotonic() - self._last_watch >= self._watchdog_interval:
                    self.watch()
                else:
                    self.run_once(None if tick else envs, reading=reading, looking=looking)
                if tick:
                    self._chores()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
