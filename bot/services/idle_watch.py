"""The watchdog's look at an environment no window holds: merges found off there are reported
(never touched), once per episode, and the episode is closed when they are found on again."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.services.outcomes import owe
from bot.services.reports import Report, ReportKind
from bot.services.schedule_api import ScheduleApi
from coursedog.errors import CoursedogError
from storage import ledger

log = logging.getLogger(__name__)
UNEXPLAINED = "unexplained_off_reported"
EXPLAINED = "unexplained_off_cleared"


class IdleWatch:
    """Reads idle environments for the watchdog."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, clients: Mapping[str, ScheduleApi]
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._clients = clients

    def __call__(self, env: str) -> list[Report]:
        """Read an environment no window holds; report merges found off, once per episode."""
        client = self._clients.get(env)
        if client is None:
            return []  # nothing to watch without read access
        try:
            live = client.read_switches()
        except CoursedogError as exc:
            log.warning("watchdog could not read %s: %s", env, exc)
            return []
        with self._sessions.begin() as session:
            last = ledger.last_environment_action(session, env, (UNEXPLAINED, EXPLAINED))
            if live.is_off() == (last == UNEXPLAINED):
                return []  # the episode is as already recorded: off and reported, or none
            now = self._clock.now()
            action = UNEXPLAINED if live.is_off() else EXPLAINED
            event = ledger.add_audit(
                session,
                at=now,
                actor="system",
                action=action,
                environment=env,
                detail=live.describe(),
            )
            if action == EXPLAINED:
                return []
            ledger.append_audit_now(session)  # last, so the event has its id
            found = [Report(None, env, ReportKind.UNEXPLAINED_OFF, after=live, occurrence=event.id)]
            owe(session, found, now)
            return found
