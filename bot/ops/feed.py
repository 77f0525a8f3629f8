"""The calendar feed service: who may read it, and what it holds right now."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.states import FINAL, WindowState
from bot.ops.calendar import (
    FeedEntry,
    FeedWindow,
    build_calendar,
    upcoming_entry,
    window_entry,
)
from bot.services import blackouts, series_feed
from storage import reporting
from storage.models import Window

OPEN_STATES = tuple(state.value for state in WindowState if state not in FINAL)
# How far ahead the feed lists occurrences of series and blackout periods.
AHEAD = timedelta(days=120)


class CalendarFeed:
    """Upcoming, active and recently closed windows as .ics, per environment or for all."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Clock,
        token: SecretStr | None,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock
        self._token = token.get_secret_value().encode() if token is not None else None
        self._names = settings.environment_names()
        self._labels = {name: env.label for name, env in settings.environments.items()}

    @property
    def enabled(self) -> bool:
        """Whether a token is configured (without one the feed does not exist)."""
        return self._token is not None

    def authorized(self, given: str) -> bool:
        """Whether ``given`` is the feed's token, compared in constant time."""
        if self._token is None:
            return False
        return hmac.compare_digest(given.encode(), self._token)

    def environment(self, name: str) -> str | None:
        """The environment a name or alias in the URL stands for, if any."""
        return self._names.get(name.lower())

    def note_configuration(self) -> None:
        """Record since when each blackout period of the configuration file has been as it
        is (its LAST-MODIFIED in the feed): a process starting with a new or changed one
        gives it the time it started."""
        with self._sessions.begin() as session:
            blackouts.note_configured(session, self._settings, self._clock.now())

    def render(self, environment: str | None = None) -> bytes:
        """The feed of one environment, or of every environment when None."""
        cfg = self._settings.calendar
        entries = self.entries(environment)
        if environment is None:
            name, uid = "sis-maint: all environments", f"feed-all@{cfg.uid_domain}"
        else:
            label = self._labels[environment]
            name, uid = f"sis-maint: {label}", f"feed-{environment}@{cfg.uid_domain}"
        return build_calendar(entries, name=name, uid=uid, refresh=cfg.refresh)

    def entries(self, environment: str | None = None) -> list[FeedEntry]:
        """The feed's events, newest window first."""
        since = self._clock.now() - self._settings.calendar.recent
        with self._sessions.begin() as session:
            rows = reporting.feed_windows(
                session, open_states=OPEN_STATES, since=since, environment=environment
            )
            changed = reporting.last_changes(session, [w.id for w in rows])
            windows = [_snapshot(w, changed.get(w.id)) for w in rows]
        domain = self._settings.calendar.uid_domain
        entries = [window_entry(w, labels=self._labels, uid_domain=domain) for w in windows]
        now = self._clock.now()
        with self._sessions.begin() as session:
            # Occurrences of series not yet made into windows, and blackout periods.
            ahead = series_feed.upcoming(
                session, self._settings, now, now + AHEAD, environment=environment
            )
        return entries + [upcoming_entry(i, uid_domain=domain, fallback=now) for i in ahead]


def _snapshot(window: Window, changed: datetime | None) -> FeedWindow:
    last = changed or window.requested_at
    return FeedWindow(
        id=window.id,
        state=WindowState(window.state),
        environments=tuple(window.environment_names),
        reason=window.reason,
        ticket=window.ticket,
        requester_id=window.requester_id,
        requested_at=window.requested_at,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        ended_at=window.ended_at,
        duration=timedelta(seconds=window.duration_seconds),
        version=window.version,
        last_modified=last,
    )
