"""The watchdog's look at an environment no window holds.

Each read is kept (storage.observations): what people had before a window is judged from it
(see bot.services.evidence). Merges found off there, the nightly one at least (the safety net
that re-sends what real-time missed), are reported, never touched, once per episode, and the
episode is closed when they are found on again. The report names an approved window about to
start on the environment, since switching off early for it is the likeliest reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.domain.states import WindowState
from bot.services.outbox import owe
from bot.services.reports import Report, ReportKind
from bot.services.schedule_api import ScheduleApi
from coursedog.errors import CoursedogError
from coursedog.models import Schedule
from storage import audit, observations, windows

log = logging.getLogger(__name__)
UNEXPLAINED = "unexplained_off_reported"
EXPLAINED = "unexplained_off_cleared"
# An approved window starting within this long is named as the likely reason merges are off.
ABOUT_TO_START = timedelta(hours=24)


def looks_off(schedule: Schedule) -> bool:
    """Whether edits would stop reaching the SIS reliably: no nightly merge (with real-time
    alone, what it misses is never re-sent)."""
    return not schedule.nightly


class IdleWatch:
    """Reads idle environments for the watchdog."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, clients: Mapping[str, ScheduleApi]
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._clients = clients

    def __call__(self, env: str) -> list[Report]:
        """Read an environment no window holds; keep what was seen; report merges found off,
        once per episode."""
        client = self._clients.get(env)
        if client is None:
            return []  # nothing to watch without read access
        try:
            live = client.read_switches()
        except CoursedogError as exc:
            log.warning("watchdog could not read %s: %s", env, exc)
            return []
        with self._sessions.begin() as session:
            now = self._clock.now()
            seen = observations.newest(session, env, 1)
            observations.observe(session, env, nightly=live.nightly, realtime=live.realtime, at=now)
            last = audit.last_environment_action(session, env, (UNEXPLAINED, EXPLAINED))
            if looks_off(live) == (last == UNEXPLAINED):
                return []  # the episode is as already recorded: off and reported, or none
            action = UNEXPLAINED if looks_off(live) else EXPLAINED
            event = audit.add(
                session,
                at=now,
                actor="system",
                action=action,
                environment=env,
                detail=live.describe(),
            )
            if action == EXPLAINED:
                return []
            audit.append_now(session)  # last, so the event has its id
            before = Schedule.of(seen[0]) if seen else None
            found = [
                Report(
                    None,
                    env,
                    ReportKind.UNEXPLAINED_OFF,
                    before=before if before != live else None,
                    after=live,
                    occurrence=event.id,
                    detail=_about_to_start(session, env, now),
                )
            ]
            owe(session, found, now)
            return found


def _about_to_start(session: Session, env: str, now: datetime) -> str:
    """The soonest approved window on ``env`` starting within ABOUT_TO_START, as "MW-3"."""
    soonest = [
        window
        for window in windows.windows_on(session, env, [WindowState.APPROVED])
        if window.starts_at is not None and now <= window.starts_at <= now + ABOUT_TO_START
    ]
    if not soonest:
        return ""
    window = min(soonest, key=lambda w: w.starts_at or now)
    return f"MW-{window.id}"
