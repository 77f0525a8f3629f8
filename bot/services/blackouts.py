"""Blackout periods: those in the configuration and those approvers add in Slack, and the
check every request goes through (refused inside a period unless an approver overrides)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.blackouts import CONFIG_PREFIX, Blackout, overlapping, span_of
from bot.domain.series_states import SeriesState
from bot.errors import Conflict, InputError, NotFound
from bot.services.access import Access
from bot.services.conflicts import SCHEDULED
from bot.services.series_view import recurrence_of, series_label
from storage import audit, recurring
from storage.db import reading
from storage.models import BlackoutPeriod, Window

OVERRIDE_HINT = "`--override <reason>`"
DAY = timedelta(days=1)


class BlackedOut(InputError):
    """A request falls in a blackout period and nobody overrode it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="start")


@dataclass(frozen=True)
class Override:
    """An approver's decision to go ahead inside blackout periods, and why."""

    by: str
    reason: str
    blackouts: tuple[Blackout, ...]

    def describe(self) -> str:
        """The periods overridden, for the card and the ledger."""
        return "; ".join(b.describe() for b in self.blackouts)


def configured(settings: Settings) -> list[Blackout]:
    """The periods in the configuration file."""
    found = []
    for period in settings.blackouts:
        zone = period.time_zone or settings.defaults.time_zone
        start, end = span_of(period.start, period.end, zone)
        found.append(
            Blackout(
                key=f"{CONFIG_PREFIX}{period.name}",
                name=period.name,
                starts_at=start,
                ends_at=end,
                zone=zone,
                environments=tuple(period.environments),
            )
        )
    return found


def of_row(row: BlackoutPeriod) -> Blackout:
    """A ledger row as a domain value."""
    return Blackout(
        key=f"B-{row.id}",
        name=row.name,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        zone=row.time_zone,
        environments=tuple(row.environments),
        changed_at=row.created_at,
    )


def in_force(
    session: Session,
    settings: Settings,
    *,
    ending_after: datetime | None = None,
    from_file: Sequence[Blackout] | None = None,
) -> list[Blackout]:
    """Every period, from the file and from Slack, earliest first.

    ``from_file``: the file's periods, when the caller has them already (with their change
    times, from ``note_configured``).
    """
    periods = list(configured(settings) if from_file is None else from_file) + [
        of_row(r) for r in recurring.blackout_periods(session, ending_after=ending_after)
    ]
    if ending_after is not None:
        periods = [p for p in periods if p.ends_at > ending_after]
    return sorted(periods, key=lambda b: (b.starts_at, b.key))


def note_configured(session: Session, settings: Settings, now: datetime) -> list[Blackout]:
    """The configuration file's periods, each with the time since which it has been as it
    is (the first time the bot ran with it so, ``now`` if that is now)."""
    periods = configured(settings)
    since = recurring.note_configured(session, {p.key: p.fingerprint() for p in periods}, now)
    return [replace(p, changed_at=since[p.key]) for p in periods]


def clear(
    session: Session,
    settings: Settings,
    access: Access,
    *,
    requester: str,
    environments: Sequence[str],
    spans: Sequence[tuple[datetime, datetime, str]],
    override: str | None,
) -> Override | None:
    """Check ``spans`` (start, end, what to call it) against every period.

    Inside a period the request is refused, naming it, unless ``override`` (the reason) comes
    from an approver of every environment; the override is returned to be recorded.
    """
    if override is not None:
        access.check_approver_for(environments, requester, "override a blackout period")
    periods = in_force(session, settings)
    hits: dict[str, tuple[Blackout, str]] = {}
    for start, end, what in spans:
        for period in overlapping(periods, environments, start, end):
            hits.setdefault(period.key, (period, what))
    if not hits:
        if override is not None:
            raise InputError(
                "Nothing to override: no blackout period covers that time. "
                "Send it again without `--override`."
            )
        return None
    if override is None:
        period, what = next(iter(hits.values()))
        more = len(hits) - 1
        others = f" (and {more} more period{'s' if more > 1 else ''})" if more else ""
        raise BlackedOut(
            f"{what} falls in the blackout period {period.describe()}{others}, when nobody may "
            f"take the integration down. Pick another time, or an approver can ask for it with "
            f"{OVERRIDE_HINT} at the end of the command."
        )
    return Override(requester, override, tuple(p for p, _ in hits.values()))


def record_override(session: Session, window: Window, allowed: Override, now: datetime) -> None:
    """Keep an approver's override in the audit trail (the window, and so its card, carries it
    from its insert: see bot.services.window_moves.record_request)."""
    audit.add(
        session,
        at=now,
        actor=allowed.by,
        action="blackout_overridden",
        window_id=window.id,
        detail=f"{allowed.reason} (inside {allowed.describe()})",
        data={"blackouts": [b.key for b in allowed.blackouts], "reason": allowed.reason},
    )


def refuse_extension_into(
    session: Session, settings: Settings, window: Window, new_end: datetime
) -> None:
    """An extension may not carry a window into a blackout period it was not let into: the
    time added is checked as a request's would be (a window with an override keeps it)."""
    if window.override_by is not None:
        return
    assert window.ends_at is not None
    periods = in_force(session, settings)
    hits = overlapping(periods, window.environment_names, window.ends_at, new_end)
    if hits:
        raise Conflict(
            f"Extending MW-{window.id} would run into the blackout period "
            f"{hits[0].describe()}, when nobody may take the integration down; nothing "
            "changed. End it before then, or request a new window with "
            f"{OVERRIDE_HINT} if it must go on."
        )


def refuse_approval_inside(session: Session, settings: Settings, window: Window) -> None:
    """A window requested before a period was added, or one that starts on approval and now
    runs into a period, cannot be approved without an override."""
    if window.override_by is not None:
        return
    assert window.starts_at is not None and window.ends_at is not None
    hits = overlapping(
        in_force(session, settings), window.environment_names, window.starts_at, window.ends_at
    )
    if hits:
        raise Conflict(
            f"MW-{window.id} would fall in the blackout period {hits[0].describe()}, so it "
            f"cannot be approved. Deny it; an approver can request it again with "
            f"{OVERRIDE_HINT}."
        )


class BlackoutService:
    """Approvers add and remove periods; everyone may list them."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], clock: Clock, access: Access
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._access = access

    def add(
        self,
        *,
        actor: str,
        name: str,
        starts_at: datetime,
        ends_at: datetime,
        zone: str,
        environments: Sequence[str] = (),
    ) -> tuple[Blackout, list[str]]:
        """Record a period; return it and what is already planned inside it (left as it is)."""
        now = self._clock.now()
        if ends_at <= now:
            raise InputError("That period is already over; give one that ends in the future.")
        covered = list(environments) or list(self._settings.environments)
        self._access.check_approver_for(covered, actor, "add a blackout period")
        with self._sessions.begin() as session:
            row = BlackoutPeriod(
                name=name,
                starts_at=starts_at,
                ends_at=ends_at,
                time_zone=zone,
                environments=list(environments),
                created_by=actor,
                created_at=now,
            )
            session.add(row)
            session.flush()
            period = of_row(row)
            audit.add(
                session,
                at=now,
                actor=actor,
                action="blackout_added",
                detail=f"{period.key}: {period.describe()}",
                data={"blackout": row.id, "environments": list(environments)},
            )
            return period, self._planned_inside(session, period, covered, now)

    def listing(self) -> list[Blackout]:
        """Periods that have not ended yet, earliest first."""
        with reading(self._sessions) as session:
            return in_force(session, self._settings, ending_after=self._clock.now())

    def remove(self, *, actor: str, blackout_id: int) -> Blackout:
        """Remove a period added in Slack (those in the file are removed there)."""
        with self._sessions.begin() as session:
            row = recurring.get_blackout(session, blackout_id, lock=True)
            if row is None:
                raise NotFound(f"There is no blackout period B-{blackout_id}; see `blackout list`.")
            if row.removed_at is not None:
                raise Conflict(f"B-{blackout_id} was already removed by <@{row.removed_by}>.")
            period = of_row(row)
            covered = list(period.environments) or list(self._settings.environments)
            self._access.check_approver_for(covered, actor, "remove a blackout period")
            now = self._clock.now()
            row.removed_by, row.removed_at = actor, now
            audit.add(
                session,
                at=now,
                actor=actor,
                action="blackout_removed",
                detail=f"{period.key}: {period.describe()}",
                data={"blackout": row.id},
            )
            return period

    def _planned_inside(
        self, session: Session, period: Blackout, covered: Sequence[str], now: datetime
    ) -> list[str]:
        """Windows and series occurrences already planned inside a new period."""
        found = [
            w.number
            for w in recurring.overlapping_windows(
                session, covered, period.starts_at, period.ends_at, SCHEDULED, now=now
            )
        ]
        for row in recurring.series_in(session, [SeriesState.REQUESTED, SeriesState.APPROVED]):
            if not set(row.environments) & set(covered):
                continue
            rule = recurrence_of(row)
            done = {w.occurrence_on for w in recurring.occurrence_windows(session, row.id)}
            hits = [
                o
                for o in rule.between(
                    max(now, period.starts_at - rule.duration - DAY), period.ends_at
                )
                if o.end > period.starts_at and o.on not in done
            ]
            if hits:
                days = ", ".join(f"{o.on:%a %-d %b}" for o in hits[:3])
                found.append(f"{series_label(row.id)} ({days}{', …' if len(hits) > 3 else ''})")
        return found
