"""Requesting, deciding, ending and extending windows. Ledger only; never Coursedog."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.clock import Clock
from bot.config import Settings
from bot.domain.approvals import Approvals
from bot.domain.grammar import EndCommand
from bot.domain.states import HOLDING, RowStatus, WindowState, move_row, move_window
from bot.domain.timefmt import local_time
from bot.domain.webhooks import EventType as E
from bot.errors import Conflict, InputError
from bot.services import (
    blackouts,
    conflicts,
    notices,
    outbox,
    requester_news,
    timetable,
    webhook_events,
)
from bot.services.access import Access, NoGroups, label
from bot.services.evidence import Evidence
from bot.services.plans import ROW_WAITING_RESTORE
from bot.services.views import WindowView
from bot.services.window_moves import (
    cancel_window,
    check_duration,
    check_times,
    end_target,
    end_window,
    extend_window,
    load_window,
    record_request,
)
from storage import audit, due, windows
from storage.db import reading
from storage.models import Window

S = WindowState


@dataclass(frozen=True)
class Requested:
    """A new request, the scheduled windows whose time it overlaps (read as it was made), and
    the claim on posting its card, made with the request (None: someone else holds it)."""

    view: WindowView
    overlaps: conflicts.Overlaps
    card_claim: int | None = None


class WindowService:
    """Everything people do to windows, each in one short transaction."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        on_scheduled: Callable[[datetime | None], None] | None = None,
        access: Access | None = None,
        on_switch: Callable[[Session, Sequence[str]], None] | None = None,
    ) -> None:
        """``on_scheduled`` hears of the soonest planned action after a change to the timetable;
        ``on_switch``, inside the transaction of a decision that has passed its checks, of the
        environments of the window it starts or ends, whose schedules the reconciler is then
        to bring in line (see bot.services.read_ahead)."""
        self._settings = settings
        self._access = access or Access(settings, NoGroups())
        self._sessions = sessions
        self._clock = clock
        self._on_scheduled = on_scheduled or (lambda _soonest: None)
        self._on_switch = on_switch or (lambda _session, _environments: None)

    def request(
        self,
        *,
        requester: str,
        environments: Sequence[str],
        duration: timedelta,
        reason: str,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        time_zone: str | None = None,
        ticket: str | None = None,
        override: str | None = None,
        approved_by_ticket: bool = False,
    ) -> Requested:
        """Record a request: now-on-approval when ``starts_at`` is None, else for a set time.

        Inside a blackout period it is refused unless ``override`` (an approver's reason) is given.
        With ``approved_by_ticket`` (a caller allowed to create windows for an approved change)
        the window is approved in the same transaction, ``ticket`` recorded as the approval;
        refused where an environment needs more than one approver (a two-person rule).
        """
        if approved_by_ticket and not (ticket or "").strip():
            raise InputError(
                "A window approved by a change ticket needs the ticket's id.", field="ticket"
            )
        policy = self._settings.window_policy(environments)
        if approved_by_ticket and policy.approvals_required > 1:
            strictest = max(
                environments, key=lambda env: self._settings.policy(env).approvals_required
            )
            raise InputError(
                f"{strictest} needs {policy.approvals_required} approvers in Slack; a change "
                "ticket approves only windows whose environments need one approver.",
                field="approval",
            )
        now = self._clock.now()
        if starts_at is not None:
            ends_at = ends_at or starts_at + duration
            duration = ends_at - starts_at
            check_times(starts_at, ends_at, now, policy.horizon)
        check_duration(self._settings, environments, duration)
        with self._sessions.begin() as session:
            span = (starts_at or now, ends_at or now + duration, "This window")
            allowed = blackouts.clear(
                session,
                self._settings,
                self._access,
                requester=requester,
                environments=environments,
                spans=[span],
                override=override,
            )
            window = record_request(
                session,
                requester=requester,
                environments=environments,
                reason=reason,
                ticket=ticket,
                starts_at=starts_at,
                ends_at=ends_at,
                duration=duration,
                time_zone=time_zone or policy.time_zone,
                now=now,
                override=allowed,
                approvals_required=policy.approvals_required,
            )
            if approved_by_ticket:
                window = load_window(session, window.id)
                with session.no_autoflush:
                    self._approve_in(session, window, requester, now)
                    self._approved(session, window, requester, now, ticket=ticket)
                session.flush()
            # The card is owed from now on, claimed with the request (bot.services.outbox).
            claim = outbox.claim_card(session, window.id, self._settings.approvals_channel, now)
            view = WindowView.of(window)
            # In the same transaction: a second one (its begin and commit, on PostgreSQL its
            # connection's ping) cost more than the writers' turn it spared on SQLite.
            overlaps = conflicts.overlapping(session, view, now)
            soonest = due.soonest_planned(session)
        self._on_scheduled(soonest)
        return Requested(view, overlaps, claim)

    def get(self, window_id: int) -> WindowView:
        """A snapshot of one window."""
        with reading(self._sessions) as session:
            return WindowView.of(load_window(session, window_id, lock=False))

    def overlaps(self, view: WindowView) -> conflicts.Overlaps:
        """Other scheduled windows on the same environments whose time overlaps this one's."""
        with reading(self._sessions) as session:
            return conflicts.overlapping(session, view, self._clock.now())

    def approvers(self, window_id: int) -> list[str]:
        """Who may approve the window (groups expanded), in order; none if it is gone."""
        with reading(self._sessions) as session:
            window = windows.get_window(session, window_id)
            return sorted(self._access.approvers_of(window)) if window else []

    def approve(self, *, window_id: int, approver: str) -> WindowView:
        """Approve a request: active at once if its start has come, else scheduled. Where its
        environments ask for more than one approver, every approval but the last is recorded
        and the window waits, still requested, for the next."""
        with (
            self._decision(window_id, approver, "approve") as (session, window),
            session.no_autoflush,  # the window's row is written once, not before each query
        ):
            now = self._clock.now()
            # The rule as it is now, never weaker than when the window was requested.
            policy = self._settings.window_policy(window.environment_names)
            required = max(window.approvals_required, policy.approvals_required)
            approvals = Approvals(tuple(window.approved_by), required).add(approver, label(window))
            window.approved_by, window.approvals_required = list(approvals.by), required
            if not approvals.complete:
                self._refuse_stale(session, window, now)
                return WindowView.of(window)
            self._approve_in(session, window, approver, now)
            news = requester_news.decision(window.id, requester_news.Moment.APPROVED, approver)
            requester_news.owe(session, [news], now)
            soonest = due.soonest_planned(session)
        self._on_scheduled(soonest)
        return WindowView.of(window)

    def check_may_decide(self, *, window_id: int, approver: str, verb: str) -> WindowView:
        """The window, if ``approver`` may decide it now; else refused as the decision itself
        would be (before a form for the decision is opened; the decision checks again)."""
        with reading(self._sessions) as session:
            window = load_window(session, window_id, lock=False)
            self._check_decision(window, approver, verb)
            return WindowView.of(window)

    def deny(self, *, window_id: int, approver: str, reason: str = "") -> WindowView:
        """Deny a request, with the approver's reason if they gave one; nothing is switched.
        The requester is owed a direct message that says so (bot.services.requester_news)."""
        reason = reason.strip()
        with self._decision(window_id, approver, "deny", detail=reason) as (
            session,
            window,
        ):
            now = self._clock.now()
            move_window(window, S.DENIED)
            window.decided_by, window.decided_at = approver, now
            for row in window.environments:
                move_row(row, RowStatus.RELEASED)
            timetable.cancel_all(session, window, now)
            webhook_events.window_event(
                session, E.DENIED, window, now, actor=approver, detail={"reason": reason}
            )
            news = requester_news.decision(
                window.id, requester_news.Moment.DENIED, approver, reason
            )
            requester_news.owe(session, [news], now)
        return WindowView.of(window)

    def cancel_undelivered(self, window_id: int, reason: str) -> None:
        """Withdraw a request whose approval card could not be posted (nobody could approve it)."""
        with self._unit("cancel") as session:
            window = load_window(session, window_id)
            cancel_window(session, self._settings, window, "system", self._clock.now(), why=reason)

    def cancel(self, *, actor: str, window_id: int) -> WindowView:
        """Withdraw a window that has not started; a started one must be ended instead."""
        with self._unit("cancel") as session:
            window = load_window(session, window_id)
            self._access.check_may_manage(window, actor, "cancel")
            if window.state in HOLDING:
                raise Conflict(
                    f"{label(window)} has started; `end {label(window)}` switches merges back on."
                )
            if window.state not in (S.REQUESTED, S.APPROVED):
                raise Conflict(f"{label(window)} is {window.state}, so there is nothing to cancel.")
            cancel_window(session, self._settings, window, actor, self._clock.now())
            session.flush()
            return WindowView.of(window)

    def decide_save_state(self, *, actor: str, environment: str, decision: str) -> None:
        """Someone chose what to do after the enabled saved state changed during a window."""
        with self._unit("decide") as session:
            nothing = Conflict(f"Nothing on {environment} is waiting for that choice any more.")
            rows = windows.window_environments(session, environment, ROW_WAITING_RESTORE)
            if not rows:
                raise nothing
            # The window, then the baseline, each locked, in the order a pass's outcome takes
            # them: of two people choosing at once, the second finds the first's choice.
            self._access.check_may_manage(load_window(session, rows[0].window_id), actor, "decide")
            baseline = windows.held_baseline(session, environment, lock=True)
            if baseline is None:
                raise nothing
            if baseline.save_state_decision:
                raise Conflict(
                    f"<@{baseline.save_state_decided_by}> already chose to "
                    f"{baseline.save_state_decision} on {environment}."
                )
            baseline.save_state_decision, baseline.save_state_decided_by = decision, actor
            audit.add(
                session,
                at=self._clock.now(),
                actor=actor,
                action="save_state_decided",
                window_id=rows[0].window_id,
                environment=environment,
                detail=decision,
            )

    def decide_baseline(self, *, actor: str, environment: str, choice: str) -> str:
        """Someone chose what to restore after merges were found switched off early (see
        bot.services.evidence): ``observed`` (what was last seen) or ``found``. Returns what
        will be restored, described."""
        with self._unit("decide") as session:
            nothing = Conflict(f"Nothing on {environment} is waiting for that choice any more.")
            held = windows.held_baseline(session, environment)
            if held is None or held.question is None:
                raise nothing
            # The window, then the baseline, each locked, as a pass's outcome takes them.
            self._access.check_may_manage(load_window(session, held.window_id), actor, "decide")
            baseline = windows.held_baseline(session, environment, lock=True)
            if baseline is None or baseline.evidence is None:
                raise nothing
            if baseline.question != "open":
                raise Conflict(
                    f"<@{baseline.question_decided_by}> already chose what to restore on "
                    f"{environment}."
                )
            evidence = Evidence.from_data(baseline.evidence)
            restore = evidence.observed if choice == "observed" else evidence.found
            baseline.nightly, baseline.realtime = restore.nightly, restore.realtime
            baseline.question, baseline.question_decided_by = choice, actor
            audit.add(
                session,
                at=self._clock.now(),
                actor=actor,
                action="baseline_chosen",
                window_id=baseline.window_id,
                environment=environment,
                detail=f"restore {restore.describe()} ({choice})",
            )
            return restore.describe()

    def end(self, *, actor: str, command: EndCommand) -> WindowView:
        """End a holding window now; the reconciler then restores what was on before."""
        with self._unit("end") as session:
            window = end_target(session, command)
            self._access.check_may_manage(window, actor, "end")
            if window.state not in HOLDING:
                raise Conflict(f"{label(window)} is {window.state}, so there is nothing to end.")
            now = self._clock.now()
            early = window.ends_at is not None and now < window.ends_at
            self._on_switch(session, window.environment_names)
            end_window(session, window, actor, now)
            if early:
                notices.plan(session, self._settings, window, notices.ENDED_EARLY, now)
            session.flush()
            return WindowView.of(window)

    def extend(
        self, *, actor: str, window_id: int, by: timedelta, seen_end: int | None = None
    ) -> WindowView:
        """Move the end of a scheduled or holding window, and every reminder with it.

        ``seen_end`` (UNIX seconds) is the end a button was shown with: a press that arrives
        after the end moved (the same press twice, say) changes nothing.
        """
        with self._unit("extend") as session:
            window = load_window(session, window_id)
            self._access.check_may_manage(window, actor, "extend")
            if window.state not in (*HOLDING, S.APPROVED):
                raise Conflict(f"{label(window)} is {window.state}, so it cannot be extended.")
            assert window.starts_at is not None and window.ends_at is not None
            if seen_end is not None and int(window.ends_at.timestamp()) != seen_end:
                raise Conflict(
                    f"{label(window)} was extended meanwhile and now ends at "
                    f"{local_time(window.ends_at, window.time_zone)}; nothing changed. Extend "
                    "again from the newest message if more time is needed."
                )
            now = self._clock.now()
            blackouts.refuse_extension_into(
                session, self._settings, window, max(window.ends_at, now) + by
            )
            extend_window(session, self._settings, window, by=by, actor=actor, now=now)
            session.flush()
            view = WindowView.of(window)
            soonest = due.soonest_planned(session)
        self._on_scheduled(soonest)
        return view

    # -- helpers -------------------------------------------------------------------------

    def _refuse_stale(self, session: Session, window: Window, now: datetime) -> None:
        """Refuse an approval, even one of several, that comes too late for the window, or
        whose set times fall in a blackout period."""
        if window.starts_at is None and now >= window.requested_at + timedelta(
            seconds=window.duration_seconds
        ):
            raise Conflict(
                f"{label(window)} waited longer than it would have lasted; request a new window."
            )
        if window.ends_at is not None and window.ends_at <= now:
            raise Conflict(f"{label(window)}'s time is already over; request a new window.")
        if window.starts_at is not None:  # one "as soon as approved" is checked when it is
            blackouts.refuse_approval_inside(session, self._settings, window)

    def _approve_in(self, session: Session, window: Window, approver: str, now: datetime) -> None:
        """Approve a requested window inside the caller's transaction: active at once if its
        start has come, else scheduled."""
        policy = self._settings.window_policy(window.environment_names)
        self._refuse_stale(session, window, now)
        if window.starts_at is None:  # "as soon as approved": its times are set now
            window.starts_at = now
            window.ends_at = now + timedelta(seconds=window.duration_seconds)
            blackouts.refuse_approval_inside(session, self._settings, window)
        assert window.starts_at is not None and window.ends_at is not None
        starts_now = window.starts_at <= now
        if starts_now:
            self._on_switch(session, window.environment_names)
        window.decided_by, window.decided_at = approver, now
        timetable.cancel_all(session, window, now)
        if starts_now:
            move_window(window, S.ACTIVE)
            timetable.plan_end(session, window, policy, now)
        else:
            move_window(window, S.APPROVED)
            timetable.plan_start(session, window, policy, now)
        # A window that starts now: Coursedog hears of it beside the switch-off, not after.
        notices.plan(session, self._settings, window, notices.APPROVED, now, urgent=starts_now)
        webhook_events.window_event(session, E.APPROVED, window, now, actor=approver)
        if starts_now:
            webhook_events.window_event(session, E.ACTIVE, window, now, actor=approver)

    def _approved(
        self,
        session: Session,
        window: Window,
        approver: str,
        now: datetime,
        *,
        ticket: str | None = None,
    ) -> None:
        """The approval's audit event; a change ticket, when it is the approval, is named."""
        audit.add(
            session,
            at=now,
            actor=approver,
            action="approved",
            window_id=window.id,
            detail=f"change ticket {ticket}" if ticket else "",
            data={"ticket": ticket} if ticket else None,
        )

    @contextmanager
    def _unit(self, verb: str) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except StaleDataError:
            raise Conflict(
                f"Someone else changed that window at the same moment; {verb} again "
                "if it is still needed."
            ) from None

    def _check_decision(self, window: Window, approver: str, verb: str) -> None:
        if window.state != S.REQUESTED:
            who = f" by <@{window.decided_by}>" if window.decided_by else ""
            raise Conflict(f"{label(window)} was already {window.state}{who}.")
        self._access.check_approver(window, approver, verb)

    @contextmanager
    def _decision(
        self, window_id: int, approver: str, verb: str, *, detail: str = ""
    ) -> Iterator[tuple[Session, Window]]:
        with self._unit(verb) as session:
            window = load_window(session, window_id)
            self._check_decision(window, approver, verb)
            yield session, window
            approvals = Approvals(tuple(window.approved_by), window.approvals_required)
            approved = "approved" if approvals.complete else "approval_added"
            audit.add(
                session,
                at=self._clock.now(),
                actor=approver,
                action="denied" if verb == "deny" else approved,
                window_id=window.id,
                # Of a window that needs several approvers, each approval says which it was.
                detail=f"approval {approvals.count()}"
                if verb == "approve" and approvals.required > 1
                else detail,
            )
            session.flush()
