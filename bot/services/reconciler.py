"""Level-triggered reconciliation: make each environment's live schedule match the ledger.

Desired state: any holding window on the environment -> everything off; otherwise the
baseline recorded before the first window took it down. Buttons and timers only change the
ledger; this is the one place that writes to Coursedog. It writes absolute values, records an
intent row before each write, reads back afterwards, and settles an unknown outcome by reading.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot import crashpoint
from bot.clock import Clock
from bot.config import Settings
from bot.domain.states import HOLDING
from bot.services import baselines, notices, outcomes
from bot.services.by_hand import ByHand
from bot.services.comments import ActivityComments
from bot.services.drivers import Drivers
from bot.services.idle_watch import IdleWatch
from bot.services.late_writes import LateWrites
from bot.services.outbox import owe
from bot.services.outcomes import Failure
from bot.services.plans import ROW_EARLY, ROW_WAITING_RESTORE, Plan, read_plan
from bot.services.read_ahead import ReadAhead
from bot.services.reports import Publish, Publisher, Report, ReportKind
from bot.services.schedule_api import ScheduleApi
from bot.services.start_gates import StartGates
from bot.services.writes import ScheduleWriter, Written
from coursedog.errors import CoursedogError, UnrecognisedSchedule
from coursedog.models import ALL_OFF, Schedule, ScheduleSnapshot
from storage import leases, windows

log = logging.getLogger(__name__)
_LOCKED_NOTICES = {
    ReportKind.OFF_LOCKED: notices.LOCKED_OFF,
    ReportKind.RESTORE_LOCKED: notices.LOCKED_RESTORE,
}


class _LeaseLost(Exception):
    """Another process took the environment over; this pass must not write."""


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
        ahead: ReadAhead | None = None,
        drivers: Drivers | None = None,
        gates: StartGates | None = None,
    ) -> None:
        """``drivers`` say who switches each environment (by default: none has a learned
        contract); ``gates`` hold a switch-off until the thread has said what runs."""
        self._gates = gates
        self._settings = settings
        self._drivers = drivers or Drivers(settings, {})
        self._sessions = sessions
        self._clock = clock
        self._clients = clients
        self._owner = owner
        self._lease_ttl = lease_ttl
        self._locks = {env: threading.Lock() for env in settings.environments}
        # Environments found leased to another process, with when the lease runs out.
        self._busy: dict[str, datetime] = {}
        self._busy_lock = threading.Lock()
        self._comments = ActivityComments(
            sessions, clock, wait=timedelta(seconds=settings.coursedog_notice.comment_wait_seconds)
        )
        self._by_hand = ByHand(sessions, clock, self._comments)
        self._late_for = timedelta(seconds=settings.late_write_seconds)
        self._writer = ScheduleWriter(sessions, clock, late_for=self._late_for)
        self._idle = IdleWatch(sessions, clock, clients)
        self._late = LateWrites(clients, self._writer, record=self._record, guard=self._guard)
        # Reads a decision started before the lease was held (see reconcile); its owner closes it.
        self._ahead = ahead
        # Reads started as soon as a lease is held (see reconcile's read_early).
        self._early = ThreadPoolExecutor(
            max_workers=max(1, len(clients)), thread_name_prefix="sis-maint-read"
        )

    def close(self) -> None:
        """Let go of the threads that read early (a read under way finishes on its own)."""
        self._early.shutdown(wait=False, cancel_futures=True)

    def busy(self) -> dict[str, float]:
        """The environments passes found leased to another process since the last call, each
        with the seconds until that lease runs out (its holder may have died: a pass then can
        take over, without waiting for the next periodic one)."""
        with self._busy_lock:
            found, self._busy = self._busy, {}
        now = self._clock.now()
        return {env: max(0.0, (until - now).total_seconds()) for env, until in found.items()}

    def environments_in_play(self) -> set[str]:
        """Environments that a window holds, that still wait for their baseline, or that are
        owed an Activity comment."""
        with self._sessions.begin() as session:
            found = windows.environments_in_play(
                session,
                [s.value for s in HOLDING],
                ROW_WAITING_RESTORE,
                self._clock.now(),
                early_status=ROW_EARLY,
            )
        return found & set(self._settings.environments)

    def reconcile(
        self,
        env: str,
        *,
        watch: bool = False,
        publish: Publish | None = None,
        read_early: bool = False,
    ) -> list[Report]:
        """Run one pass for ``env``; returns what is worth telling people.

        A read the decision started ahead (see bot.services.read_ahead) is used when it is as
        good as the pass's own. Else, with ``read_early`` (a decision on ``env`` was just
        recorded, so its schedule will be read) the read starts as soon as the lease is held,
        while the plan is read from the ledger, instead of after it.

        With ``watch`` (the periodic watchdog) an environment that no window explains is read
        too, and reported (never touched) if its merges are off.

        With ``publish`` the pass publishes what it returns, each report as soon as it can:
        the verified schedule as soon as it is committed, before the Activity comment is
        posted, and the rest at the end. Without it the caller publishes what is returned.
        """
        publisher = Publisher(publish)
        found = self._locked_pass(env, watch=watch, publisher=publisher, read_early=read_early)
        publisher.rest(found)
        return found

    def _locked_pass(
        self, env: str, *, watch: bool, publisher: Publisher, read_early: bool
    ) -> list[Report]:
        client = self._clients.get(env) if read_early else None
        early: Future[ScheduleSnapshot] | None = None
        with self._locks[env]:
            with self._sessions.begin() as session:  # the lease and, under it, the plan
                epoch = leases.acquire_lease(
                    session, env, self._owner, self._clock.now(), self._lease_ttl
                )
                early = self._ahead.take(env, epoch) if self._ahead is not None else None
                if early is None and epoch is not None and client is not None:
                    # The lease's row is ours (locked, then committed below): read beside the plan.
                    early = self._early.submit(client.read_schedule)
                plan = (
                    read_plan(session, env, self._clock.now(), late_for=self._late_for)
                    if epoch is not None
                    else None
                )
                if epoch is None:  # see busy
                    until = leases.held_until(session, env)
                    if until is not None:
                        with self._busy_lock:
                            self._busy[env] = until
            if epoch is None or plan is None:
                log.info("environment %s is being reconciled by another process", env)
                return []
            if self._gates is not None:
                self._gates.wait(env)  # the lease and plan are taken; nothing is written yet
            try:
                found = self._pass(env, epoch, plan, watch=watch, publisher=publisher, early=early)
                return found + self._comments.post_owed(
                    env, self._clients.get(env), by_hand=self._by_hand_driver(env, plan)
                )
            except _LeaseLost:
                log.warning("lost the lease on %s mid-pass; another process carries on", env)
                return []
            finally:
                with self._sessions.begin() as session:
                    leases.release_lease(session, env, self._owner, epoch)

    # -- one pass --------------------------------------------------------------------------

    def _pass(
        self,
        env: str,
        epoch: int,
        plan: Plan,
        *,
        watch: bool,
        publisher: Publisher,
        early: Future[ScheduleSnapshot] | None = None,
    ) -> list[Report]:
        if not plan.holding and plan.baseline is None:
            # Nothing was switched off for these windows (e.g. ended before anything ran).
            reports = self._record(
                lambda s: outcomes.finish_restore(
                    s, env, plan, before=None, after=None, now=self._clock.now()
                )
            )
            if plan.late:
                reports += self._late.check(env, epoch, plan, out=publisher)
            return reports + (self._idle(env) if watch else [])
        client = self._clients.get(env)
        if client is None:  # assisted without read access: people confirm each step
            return self._by_hand.without_reads(env, plan)
        try:
            live = early.result() if early is not None else client.read_schedule()
        except UnrecognisedSchedule as exc:
            return self._unrecognised(env, plan, exc)
        except CoursedogError as exc:
            return self._failed(env, plan, f"could not read the schedule: {exc}", reading=True)
        baseline_owed = bool(plan.holding) and plan.baseline is None
        desired = ALL_OFF if plan.holding else plan.baseline
        assert desired is not None
        if not plan.holding:
            held_back = self._held_back(env, plan, live)
            if held_back is not None:
                return held_back
        by_hand = self._by_hand_driver(env, plan)
        if baseline_owed and (live.schedule == desired or by_hand):
            self._record_baseline(env, plan.holding[0], live)
        if live.schedule == desired:
            return self._finish(env, plan, live.schedule, None, out=publisher)
        if by_hand:
            return self._by_hand.needs_person(env, plan, live.schedule, desired)
        written = self._write(
            env, epoch, plan, live, desired, client=client, baseline=baseline_owed
        )
        if written.failure is Failure.REFUSED:
            return self._to_checklist(env, plan, live.schedule, desired, written)
        if written.error is not None:
            return self._failed(
                env, plan, written.error, reading=False, written=written, failure=written.failure
            )
        return self._finish(env, plan, live.schedule, written, out=publisher)

    def _held_back(self, env: str, plan: Plan, live: ScheduleSnapshot) -> list[Report] | None:
        """Before a restore: what a person must decide first (None: nothing, go ahead)."""
        if plan.question_open:  # merges were found switched off early; nobody chose yet
            return self._record(lambda s: outcomes.baseline_unanswered(s, env, plan))
        if not plan.saved_state_moved(live.save_state_id):
            return None
        if plan.save_state_decision == "leave":

            def leave(session: Session) -> list[Report]:
                baselines.observe(session, env, live.schedule, self._clock.now())
                return outcomes.finish_restore(
                    session,
                    env,
                    plan,
                    before=live.schedule,
                    after=live.schedule,
                    now=self._clock.now(),
                    left_as_is=True,
                )

            return self._record(leave)
        if plan.save_state_decision != "restore":
            return self._record(
                lambda s: outcomes.save_state_changed(s, env, plan, current=live.save_state_id)
            )
        return None

    def _finish(
        self,
        env: str,
        plan: Plan,
        before: Schedule,
        written: Written | None,
        *,
        out: Publisher,
    ) -> list[Report]:
        """The schedule is verified as desired (``written``, or found so): record it, with the
        write's settlement and the reports and comments it owes, and publish the reports (the
        pass posts the comments after: people need not wait for their round trip)."""
        after = written.desired if written is not None else before
        write_id = written.intent_id if written is not None else 0

        def produce(session: Session) -> list[Report]:
            if written is not None:
                self._writer.settle(session, written)
            if plan.holding:
                return outcomes.finish_off(
                    session, env, plan, before=before, after=after, write_id=write_id
                )
            baselines.observe(session, env, after, self._clock.now())  # people have it again
            return outcomes.finish_restore(
                session,
                env,
                plan,
                before=before,
                after=after,
                now=self._clock.now(),
                watch_every=self._settings.merge_watch.every,
            )

        reports = self._record(produce)
        if reports:
            crashpoint.reached("outcome")
        if self._by_hand_driver(env, plan):
            self._by_hand.verified(env, plan)
        out.now(reports)
        return reports

    def _record(self, produce: Callable[[Session], list[Report]]) -> list[Report]:
        """Commit an outcome together with the reports and the Activity comments it owes
        (see bot.services.outbox and ActivityComments.post_owed)."""
        with self._sessions.begin() as session:
            reports = produce(session)
            owe(session, reports, self._clock.now())
            self._comments.owe(session, reports)
        return reports

    def _by_hand_driver(self, env: str, plan: Plan) -> bool:
        return plan.by_hand or self._drivers.by_hand(env)

    def _to_checklist(
        self, env: str, plan: Plan, live: Schedule, desired: Schedule, written: Written
    ) -> list[Report]:
        """Coursedog refused the write without saying why: hand this window's switch on
        ``env`` to a person, with the checklist, at once."""
        assert written.error is not None
        error = written.error

        def produce(session: Session) -> list[Report]:
            self._writer.settle(session, written)
            return outcomes.switched_to_checklist(session, env, plan, error, self._clock.now())

        told = self._record(produce)
        return told + self._by_hand.needs_person(env, plan, live, desired)

    def _unrecognised(self, env: str, plan: Plan, exc: UnrecognisedSchedule) -> list[Report]:
        """A schedule the bot cannot read with certainty: write nothing, show a person what
        Coursedog said (never take it for "off")."""
        log.warning("the schedule of %s is not recognised: %s", env, exc)
        raw = json.dumps(exc.raw, sort_keys=True)
        return self._failed(
            env, plan, exc.problem, reading=True, failure=Failure.UNRECOGNISED, unrecognised=raw
        )

    def _failed(
        self,
        env: str,
        plan: Plan,
        reason: str,
        *,
        reading: bool,
        written: Written | None = None,
        failure: Failure = Failure.FAILED,
        unrecognised: str | None = None,
    ) -> list[Report]:
        def produce(session: Session) -> list[Report]:
            if written is not None:
                self._writer.settle(session, written)
            now = self._clock.now()
            reports = outcomes.failed(
                session,
                env,
                plan,
                reason,
                reading=reading,
                now=now,
                failure=failure,
                unrecognised=unrecognised,
            )
            for report in reports:
                event = _LOCKED_NOTICES.get(report.kind)
                window = windows.get_window(session, report.window_id or 0)
                if event and window is not None:
                    # Only Coursedog can switch locked settings: ask it, in so many words.
                    notices.plan(session, self._settings, window, event, now, environment=env)
            return reports

        return self._record(produce)

    def _record_baseline(self, env: str, window_id: int, live: ScheduleSnapshot) -> None:
        with self._sessions.begin() as session:
            baselines.record_from_read(session, env, window_id, live, self._clock.now())

    def _write(
        self,
        env: str,
        epoch: int,
        plan: Plan,
        live: ScheduleSnapshot,
        desired: Schedule,
        *,
        client: ScheduleApi,
        baseline: bool,
    ) -> Written:
        """Write ``desired`` over the snapshot just read and read it back.

        The intent's transaction first records the baseline (when this pass owes it) and makes
        sure no other process has taken the environment over (else nothing is sent).
        """

        guard = self._guard(env, epoch)

        def prepare(session: Session) -> None:
            if baseline:
                baselines.record_from_read(session, env, plan.holding[0], live, self._clock.now())
            guard(session)

        window_id = (plan.holding or plan.waiting or (None,))[0]
        return self._writer.write(
            env, window_id, live.schedule, desired, client, over=live, prepare=prepare
        )

    def _guard(self, env: str, epoch: int) -> Callable[[Session], None]:
        """For a write's intent transaction: make sure no other process has taken the
        environment over (else nothing is recorded and nothing is sent)."""

        def renew(session: Session) -> None:
            if not leases.renew_lease(
                session, env, self._owner, epoch, now=self._clock.now(), ttl=self._lease_ttl
            ):
                raise _LeaseLost(env)

        return renew
