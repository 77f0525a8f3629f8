"""Level-triggered reconciliation: make each environment's live schedule match the ledger.

Desired state: any holding window on the environment -> everything off; otherwise the
baseline recorded before the first window took it down. Buttons and timers only change the
ledger; this is the one place that writes to Coursedog. It writes absolute values, records an
intent row before each write, reads back afterwards, and settles an unknown outcome by reading.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.states import HOLDING, WindowState, can_transition, transition
from bot.services.reports import Report, ReportKind
from coursedog.errors import CoursedogError, OutcomeUnknown
from coursedog.models import Schedule, ScheduleSnapshot
from storage import ledger
from storage.models import Baseline, RemoteWrite, Window, WindowEnvironment

log = logging.getLogger(__name__)
ALL_OFF = Schedule(nightly=False, realtime=False)
ROW_WAITING_RESTORE = ("ending", "restore_failed")
UNEXPLAINED = "unexplained_off_reported"
EXPLAINED = "unexplained_off_cleared"


class ScheduleApi(Protocol):
    """The part of the Coursedog client the reconciler needs."""

    def read_schedule(self) -> ScheduleSnapshot: ...

    def write_schedule(self, schedule: Schedule) -> None: ...


@dataclass(frozen=True)
class _Plan:
    holding: tuple[int, ...]
    waiting: tuple[int, ...]
    baseline: Schedule | None


class Reconciler:
    """Brings environments to their desired schedule, one environment at a time."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Clock,
        clients: Mapping[str, ScheduleApi],
        *,
        owner: str,
        lease_ttl: timedelta = timedelta(minutes=5),
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._clients = clients
        self._owner = owner
        self._lease_ttl = lease_ttl
        self._locks = {env: threading.Lock() for env in settings.environments}

    def environments_in_play(self) -> set[str]:
        """Environments that a window holds, or that still wait for their baseline."""
        with self._sessions.begin() as session:
            found = ledger.environments_in_play(
                session, [s.value for s in HOLDING], ROW_WAITING_RESTORE
            )
        return found & set(self._settings.environments)

    def reconcile(self, env: str, *, watch: bool = False) -> list[Report]:
        """Run one pass for ``env``; returns what is worth telling people.

        With ``watch`` (the periodic watchdog) an environment that no window explains is read
        too, and reported (never touched) if its merges are off.
        """
        with self._locks[env]:
            with self._sessions.begin() as session:
                epoch = ledger.acquire_lease(
                    session, env, self._owner, self._clock.now(), self._lease_ttl
                )
            if epoch is None:
                log.info("environment %s is being reconciled by another process", env)
                return []
            try:
                return self._pass(env, watch=watch)
            finally:
                with self._sessions.begin() as session:
                    ledger.release_lease(session, env, self._owner, epoch)

    # -- one pass --------------------------------------------------------------------------

    def _pass(self, env: str, *, watch: bool) -> list[Report]:
        plan = self._plan(env)
        if not plan.holding and plan.baseline is None:
            # Nothing was switched off for these windows (e.g. ended before anything ran).
            reports = self._finish_restore(env, plan, before=None, after=None)
            return reports + (self._watch_idle(env) if watch else [])
        client = self._clients[env]
        try:
            live = client.read_schedule()
        except CoursedogError as exc:
            return self._failed(env, plan, f"could not read the schedule: {exc}")
        if plan.holding and plan.baseline is None:
            self._record_baseline(env, plan.holding[0], live)
        desired = ALL_OFF if plan.holding else plan.baseline
        assert desired is not None
        after, write_id = live.schedule, 0
        if live.schedule != desired:
            if self._settings.environments[env].driver == "assisted":
                return self._assisted(env, plan, live.schedule, desired)
            write_id, outcome = self._write(env, plan, live.schedule, desired, client)
            if isinstance(outcome, str):
                return self._failed(env, plan, outcome)
            after = outcome
        if plan.holding:
            return self._finish_off(env, plan, before=live.schedule, after=after, write_id=write_id)
        return self._finish_restore(env, plan, before=live.schedule, after=after)

    def _plan(self, env: str) -> _Plan:
        with self._sessions.begin() as session:
            now = self._clock.now()
            for stale in ledger.pending_writes(session, env):
                # Its writer died or lost the lease mid-call; the read below settles it.
                stale.status, stale.finished_at = "unknown", now
                stale.error = "abandoned by its writer; settled by the next read"
            holding = ledger.windows_on(session, env, [s.value for s in HOLDING])
            waiting = ledger.window_environments(session, env, ROW_WAITING_RESTORE)
            baseline = ledger.held_baseline(session, env)
            return _Plan(
                holding=tuple(w.id for w in holding),
                waiting=tuple(r.window_id for r in waiting),
                baseline=Schedule(baseline.nightly, baseline.realtime) if baseline else None,
            )

    def _record_baseline(self, env: str, window_id: int, live: ScheduleSnapshot) -> None:
        with self._sessions.begin() as session:
            now = self._clock.now()
            session.add(
                Baseline(
                    environment=env,
                    nightly=live.schedule.nightly,
                    realtime=live.schedule.realtime,
                    save_state_id=live.save_state_id,
                    captured_at=now,
                    window_id=window_id,
                )
            )
            ledger.add_audit(
                session,
                at=now,
                actor="system",
                action="baseline_recorded",
                window_id=window_id,
                environment=env,
                detail=live.schedule.describe(),
                data=_snapshot(live),
            )

    def _write(
        self, env: str, plan: _Plan, before: Schedule, desired: Schedule, client: ScheduleApi
    ) -> tuple[int, Schedule | str]:
        """Write ``desired`` and read it back: the intent's id, and the verified schedule or why
        it failed."""
        window_id = (plan.holding or plan.waiting or (None,))[0]
        with self._sessions.begin() as session:
            intent = RemoteWrite(
                environment=env,
                operation="write_schedule",
                window_id=window_id,
                before=_schedule(before),
                desired=_schedule(desired),
                status="pending",
                started_at=self._clock.now(),
            )
            session.add(intent)
        error: str | None = None
        status = "applied"
        try:
            client.write_schedule(desired)
        except OutcomeUnknown as exc:
            log.warning("write to %s: outcome unknown (%s); settling by reading", env, exc)
        except CoursedogError as exc:
            error, status = f"Coursedog refused the change: {exc}", "failed"
        verified: Schedule | None = None
        if error is None:
            try:
                verified = client.read_schedule().schedule
            except CoursedogError as exc:
                error = f"the change could not be verified, because reading it back failed: {exc}"
                status = "unknown"
        if verified is not None and verified != desired:
            error, status = (
                f"the read-back shows {verified.describe()}, not {desired.describe()}",
                "failed",
            )
        self._settle(
            intent.id,
            env=env,
            window_id=window_id,
            status=status,
            error=error,
            data={
                "before": _schedule(before),
                "desired": _schedule(desired),
                "verified": _schedule(verified) if verified else None,
            },
            summary=f"{before.describe()} -> {desired.describe()}",
        )
        return intent.id, (error if error is not None else desired)

    def _settle(
        self,
        intent_id: int,
        *,
        env: str,
        window_id: int | None,
        status: str,
        error: str | None,
        data: dict[str, object],
        summary: str,
    ) -> None:
        """Settle the intent row and append the audit event that explains the remote change."""
        with self._sessions.begin() as session:
            now = self._clock.now()
            intent = session.get(RemoteWrite, intent_id)
            assert intent is not None
            intent.status, intent.finished_at, intent.error = status, now, error
            ledger.add_audit(
                session,
                at=now,
                actor="system",
                action="schedule_written" if error is None else "schedule_write_failed",
                window_id=window_id,
                environment=env,
                detail=error or summary,
                data=data,
            )

    # -- outcomes ------------------------------------------------------------------------

    def _finish_off(
        self, env: str, plan: _Plan, *, before: Schedule, after: Schedule, write_id: int
    ) -> list[Report]:
        reports: list[Report] = []
        with self._sessions.begin() as session:
            for row, window in self._rows(session, env, plan.holding):
                if row.status == "off":
                    if write_id:  # someone switched merges back on by hand meanwhile
                        reports.append(
                            Report(
                                window.id,
                                env,
                                ReportKind.DRIFT_CORRECTED,
                                before,
                                after,
                                occurrence=write_id,
                            )
                        )
                    continue
                kind = ReportKind.SWITCHED_OFF if before != after else ReportKind.ALREADY_OFF
                row.status, row.detail = "off", None
                state = self._recover_if_done(window)
                reports.append(Report(window.id, env, kind, before, after, window_state=state))
            for row, window in self._rows(session, env, plan.waiting):
                row.status = "handed_over"
                others = ", ".join(f"MW-{w}" for w in plan.holding)
                reports.append(
                    Report(window.id, env, ReportKind.HANDED_OVER, after=after, detail=others)
                )
        return reports

    def _finish_restore(
        self, env: str, plan: _Plan, *, before: Schedule | None, after: Schedule | None
    ) -> list[Report]:
        reports: list[Report] = []
        with self._sessions.begin() as session:
            now = self._clock.now()
            baseline = ledger.held_baseline(session, env)
            if baseline is not None:
                baseline.released_at = now
            for row, window in self._rows(session, env, plan.waiting):
                row.status, row.detail = "restored", None
                reports.append(Report(window.id, env, ReportKind.RESTORED, before, after))
            if baseline is not None:
                ledger.add_audit(
                    session,
                    at=now,
                    actor="system",
                    action="baseline_restored",
                    window_id=baseline.window_id,
                    environment=env,
                    detail=after.describe() if after else "",
                )
        return reports

    def _failed(self, env: str, plan: _Plan, reason: str) -> list[Report]:
        reports: list[Report] = []
        with self._sessions.begin() as session:
            for row, window in self._rows(session, env, plan.holding):
                if row.status == "failed" and row.detail == reason:
                    continue
                row.status, row.detail = "failed", reason
                state = None
                if can_transition(window.state, WindowState.FAILED):
                    window.state = transition(window.state, WindowState.FAILED)
                    window.failure_reason = f"{env}: {reason}"
                    state = WindowState.FAILED.value
                reports.append(
                    Report(window.id, env, ReportKind.OFF_FAILED, detail=reason, window_state=state)
                )
            for row, window in self._rows(session, env, plan.waiting):
                if row.status == "restore_failed" and row.detail == reason:
                    continue
                row.status, row.detail = "restore_failed", reason
                reports.append(Report(window.id, env, ReportKind.RESTORE_FAILED, detail=reason))
            ledger.add_audit(
                session,
                at=self._clock.now(),
                actor="system",
                action="reconcile_failed",
                window_id=(plan.holding or plan.waiting or (None,))[0],
                environment=env,
                detail=reason,
            )
        return reports

    def _watch_idle(self, env: str) -> list[Report]:
        """Read an environment no window holds; report merges found off, once per episode."""
        try:
            live = self._clients[env].read_schedule().schedule
        except CoursedogError as exc:
            log.warning("watchdog could not read %s: %s", env, exc)
            return []
        with self._sessions.begin() as session:
            last = ledger.last_environment_action(session, env, (UNEXPLAINED, EXPLAINED))
            now = self._clock.now()
            if live.is_off() and last != UNEXPLAINED:
                event = ledger.add_audit(
                    session,
                    at=now,
                    actor="system",
                    action=UNEXPLAINED,
                    environment=env,
                    detail=live.describe(),
                )
                session.flush()
                return [
                    Report(None, env, ReportKind.UNEXPLAINED_OFF, after=live, occurrence=event.id)
                ]
            if not live.is_off() and last == UNEXPLAINED:
                ledger.add_audit(
                    session,
                    at=now,
                    actor="system",
                    action=EXPLAINED,
                    environment=env,
                    detail=live.describe(),
                )
        return []

    def _assisted(self, env: str, plan: _Plan, live: Schedule, desired: Schedule) -> list[Report]:
        reports: list[Report] = []
        with self._sessions.begin() as session:
            ids = plan.holding or plan.waiting
            for row, window in self._rows(session, env, ids):
                if row.detail == "assisted":
                    continue
                row.detail = "assisted"
                reports.append(
                    Report(window.id, env, ReportKind.ASSISTED, before=live, after=desired)
                )
        return reports

    def _rows(
        self, session: Session, env: str, window_ids: Sequence[int]
    ) -> list[tuple[WindowEnvironment, Window]]:
        pairs = []
        for window_id in window_ids:
            row = session.get(WindowEnvironment, (window_id, env))
            window = ledger.get_window(session, window_id, lock=True)
            if row is not None and window is not None:
                pairs.append((row, window))
        return pairs

    @staticmethod
    def _recover_if_done(window: Window) -> str | None:
        if window.state == WindowState.FAILED and all(
            r.status == "off" for r in window.environments
        ):
            window.state = transition(window.state, WindowState.ACTIVE)
            window.failure_reason = None
            return WindowState.ACTIVE.value
        return None


def _schedule(schedule: Schedule) -> dict[str, bool]:
    return {"nightly": schedule.nightly, "realtime": schedule.realtime}


def _snapshot(snapshot: ScheduleSnapshot) -> dict[str, object]:
    return {**_schedule(snapshot.schedule), "save_state_id": snapshot.save_state_id}
