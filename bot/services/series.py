"""Recurring series: requesting, deciding, ending, skipping, editing, listing. Ledger only.

A series is approved once, as a standard change; its occurrences then become ordinary
approved windows (bot.services.occurrences), each with its reminders, notice to Coursedog,
card, ledger entries and verification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.clock import Clock
from bot.config import Settings
from bot.domain.approvals import Approvals
from bot.domain.recurrence import Recurrence
from bot.domain.series_states import LIVE, SeriesState, series_transition
from bot.domain.states import HOLDING
from bot.errors import Conflict, NotFound, PermissionDenied
from bot.services import blackouts, occurrences, series_changes
from bot.services.access import Access
from bot.services.series_changes import Edited, Skipped
from bot.services.series_view import (
    OccurrenceLine,
    SeriesView,
    ended_clause,
    recurrence_of,
    series_label,
)
from bot.services.views import SYSTEM, WindowView
from storage import audit, due, recurring
from storage.db import reading
from storage.models import Series

LISTED = 3


@dataclass(frozen=True)
class Ended:
    """A series that will have no new occurrences, and what became of those already made."""

    series: SeriesView
    cancelled: tuple[WindowView, ...]
    running: tuple[WindowView, ...]


class SeriesService:
    """Everything people do to series, each in one short transaction."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Clock,
        access: Access,
        on_scheduled: Callable[[datetime | None], None] | None = None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._access = access
        self._on_scheduled = on_scheduled or (lambda _soonest: None)

    def request(
        self,
        *,
        requester: str,
        environments: Sequence[str],
        recurrence: Recurrence,
        reason: str,
        ticket: str | None = None,
        override: str | None = None,
    ) -> SeriesView:
        """Record a series waiting for an approver; refused inside blackout periods unless
        an approver overrides."""
        now = self._clock.now()
        spans = series_changes.check_rule(self._settings, environments, recurrence, now)
        with self._sessions.begin() as session:
            allowed = blackouts.clear(
                session,
                self._settings,
                self._access,
                requester=requester,
                environments=environments,
                spans=spans,
                override=override,
            )
            row = Series(
                state=SeriesState.REQUESTED,
                requester_id=requester,
                environments=list(environments),
                reason=reason,
                ticket=ticket or None,
                requested_at=now,
                rule=recurrence.rule,
                dtstart=recurrence.dtstart.isoformat(timespec="minutes"),
                time_zone=recurrence.zone,
                duration_seconds=int(recurrence.duration.total_seconds()),
                ends_wall=f"{recurrence.ends_wall:%H:%M}" if recurrence.ends_wall else None,
                skipped=[],
                overridden=[],
                approved_by=[],
                approvals_required=self._settings.window_policy(environments).approvals_required,
            )
            session.add(row)
            session.flush()
            series_changes.record_override(session, row, allowed, now)
            audit.add(
                session,
                at=now,
                actor=requester,
                action="series_requested",
                detail=f"{series_label(row.id)}: {recurrence.describe()}"
                + (f"; {reason}" if reason else ""),
                data={"series": row.id, "environments": list(environments), "rule": row.rule},
            )
            return self._view(session, row, now)

    def attach_card(self, series_id: int, channel: str, ts: str) -> None:
        """Remember where the series' approval card was posted."""
        with self._sessions.begin() as session:
            row = self._load(session, series_id)
            row.channel_id, row.card_ts = channel, ts

    def withdraw_undelivered(self, series_id: int, reason: str) -> None:
        """End a series whose approval card could not be posted (nobody could approve it)."""
        with self._unit("withdraw") as session:
            row, now = self._load(session, series_id), self._clock.now()
            row.state = series_transition(row.state, SeriesState.ENDED)
            row.ended_by, row.ended_at = SYSTEM, now
            audit.add(
                session,
                at=now,
                actor=SYSTEM,
                action="series_ended",
                detail=f"{series_label(row.id)}: {reason}",
                data={"series": row.id},
            )

    def get(self, series_id: int) -> SeriesView:
        """A snapshot of one series with its next occurrences."""
        with self._sessions.begin() as session:
            return self._view(session, self._load(session, series_id, lock=False), None)

    def listing(self) -> list[SeriesView]:
        """Series waiting for a decision or running, each with its next occurrences."""
        with reading(self._sessions) as session:
            now = self._clock.now()
            return [self._view(session, r, now) for r in recurring.series_in(session, LIVE)]

    def approve(self, *, series_id: int, approver: str) -> SeriesView:
        """Approve once: from now on each occurrence is scheduled as an approved window.
        Where its environments ask for more than one approver, every approval but the last is
        recorded and the series waits, still requested, for the next."""
        with self._unit("approve") as session:
            row, now = self._undecided(session, series_id, approver, "approve"), self._clock.now()
            policy = self._settings.window_policy(row.environments)
            required = max(row.approvals_required, policy.approvals_required)
            approvals = Approvals(tuple(row.approved_by), required).add(
                approver, series_label(row.id)
            )
            row.approved_by, row.approvals_required = list(approvals.by), required
            if not approvals.complete:
                note = f"approval {approvals.count()}"
                self._audit(session, row, approver, "series_approval_added", now, note=note)
                return self._view(session, row, now)
            row.state = series_transition(row.state, SeriesState.APPROVED)
            row.decided_by, row.decided_at = approver, now
            self._audit(session, row, approver, "series_approved", now)
            occurrences.plan_materialise(session, row.id, now, now, "approved")
            view = self._view(session, row, now)
            soonest = due.soonest_planned(session)
        self._on_scheduled(soonest)
        return view

    def deny(self, *, series_id: int, approver: str) -> SeriesView:
        """Deny a series; nothing is scheduled."""
        with self._unit("deny") as session:
            row, now = self._undecided(session, series_id, approver, "deny"), self._clock.now()
            row.state = series_transition(row.state, SeriesState.DENIED)
            row.decided_by, row.decided_at = approver, now
            self._audit(session, row, approver, "series_denied", now)
            return self._view(session, row, now)

    def end(self, *, actor: str, series_id: int) -> Ended:
        """No new occurrences: those not started are cancelled; a running one keeps its end."""
        with self._unit("end") as session:
            row = self._load(session, series_id)
            self._check_may_manage(row, actor, "end")
            if row.state == SeriesState.DENIED:
                raise Conflict(f"{series_label(row.id)} was denied, so there is nothing to end.")
            if row.state == SeriesState.ENDED:
                raise Conflict(
                    f"{series_label(row.id)} has already ended ({ended_clause(row.ended_by)})."
                )
            now = self._clock.now()
            row.state = series_transition(row.state, SeriesState.ENDED)
            row.ended_by, row.ended_at = actor, now
            cancelled = occurrences.cancel_pending(session, self._settings, row, actor, now)
            running = recurring.occurrence_windows(session, row.id, [s.value for s in HOLDING])
            self._audit(session, row, actor, "series_ended", now)
            session.flush()
            return Ended(
                self._view(session, row, now),
                tuple(cancelled),
                tuple(WindowView.of(w) for w in running),
            )

    def skip(
        self,
        *,
        actor: str,
        series_id: int | None = None,
        day: date | None = None,
        window_id: int | None = None,
    ) -> Skipped:
        """Leave out one occurrence, by its date or by its window (cancelled if not started)."""
        with self._unit("skip") as session:
            if window_id is not None:
                series_id, day = series_changes.occurrence_of(session, window_id)
            assert series_id is not None and day is not None
            row = self._load(session, series_id)
            self._check_may_manage(row, actor, "skip an occurrence of")
            now = self._clock.now()
            skipped = series_changes.skip(
                session, self._settings, row, actor=actor, day=day, now=now
            )
            session.flush()
            return Skipped(self._view(session, row, now), skipped.occurrence, skipped.cancelled)

    def edit(
        self,
        *,
        actor: str,
        series_id: int,
        wall: time,
        duration: timedelta,
        ends_wall: time | None = None,
        override: str | None = None,
    ) -> Edited:
        """New times for occurrences that have not started; started ones are left alone."""
        with self._unit("edit") as session:
            row = self._load(session, series_id)
            self._check_may_manage(row, actor, "edit")
            now = self._clock.now()
            edited = series_changes.edit(
                session,
                self._settings,
                self._access,
                row,
                actor=actor,
                times=(wall, duration, ends_wall),
                override=override,
                now=now,
            )
            session.flush()
            view = self._view(session, row, now)
            soonest = due.soonest_planned(session)
        self._on_scheduled(soonest)
        return Edited(view, edited.moved, edited.kept)

    # -- helpers -------------------------------------------------------------------------

    def _view(self, session: Session, row: Series, now: datetime | None) -> SeriesView:
        if row.state not in LIVE:
            return SeriesView.of(row)
        now = now or self._clock.now()
        windows = {w.occurrence_on: w for w in recurring.occurrence_windows(session, row.id)}
        lines = []
        for occurrence in recurrence_of(row).upcoming(now, LISTED):
            window = windows.get(occurrence.on)
            lines.append(
                OccurrenceLine(
                    occurrence,
                    window.id if window else None,
                    window.state if window else None,
                )
            )
        return SeriesView.of(row, tuple(lines))

    def _undecided(self, session: Session, series_id: int, approver: str, verb: str) -> Series:
        row = self._load(session, series_id)
        name = series_label(row.id)
        if row.state != SeriesState.REQUESTED:
            if row.decided_by:
                who = f" by <@{row.decided_by}>"
            else:
                who = f" {ended_clause(row.ended_by)}" if row.ended_by else ""
            raise Conflict(f"{name} was already {row.state}{who}.")
        self._access.check_approver_for(
            row.environments, approver, f"{verb} {name}", requester=row.requester_id
        )
        return row

    def _check_may_manage(self, row: Series, actor: str, verb: str) -> None:
        if actor == row.requester_id or actor in self._access.approvers_for(row.environments):
            return
        raise PermissionDenied(
            f"Only the requester (<@{row.requester_id}>) or an approver can {verb} "
            f"{series_label(row.id)}."
        )

    def _audit(
        self,
        session: Session,
        row: Series,
        actor: str,
        action: str,
        now: datetime,
        *,
        note: str = "",
    ) -> None:
        audit.add(
            session,
            at=now,
            actor=actor,
            action=action,
            detail=series_label(row.id) + (f": {note}" if note else ""),
            data={"series": row.id},
        )

    @contextmanager
    def _unit(self, verb: str) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except StaleDataError:
            raise Conflict(
                f"Someone else changed that series at the same moment; {verb} again "
                "if it is still needed."
            ) from None

    def _load(self, session: Session, series_id: int, *, lock: bool = True) -> Series:
        row = recurring.get_series(session, series_id, lock=lock)
        if row is None:
            raise NotFound(f"There is no series S-{series_id}; `series list` shows them.")
        return row
