"""Read-only questions: what is the state of each environment, which windows, what happened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.domain.states import HOLDING, WindowState
from bot.services.reconciler import ScheduleApi
from bot.services.views import WindowView
from coursedog.errors import CoursedogError
from coursedog.models import Schedule
from storage import ledger

S = WindowState
UPCOMING = (S.REQUESTED, S.APPROVED)
RECENT = (S.ENDED, S.DENIED, S.CANCELLED, S.EXPIRED)


@dataclass(frozen=True)
class EnvironmentStatus:
    """One environment: its live switches (or why they could not be read) and its windows."""

    name: str
    live: Schedule | None
    error: str | None
    holders: tuple[WindowView, ...]
    baseline: Schedule | None


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the audit trail."""

    at: datetime
    actor: str
    action: str
    window_id: int | None
    environment: str | None
    detail: str


class StatusService:
    """Answers status, list and history; reads Coursedog but never writes."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clients: Mapping[str, ScheduleApi],
    ) -> None:
        self._sessions = sessions
        self._clients = clients

    def environments(self, names: Sequence[str]) -> list[EnvironmentStatus]:
        """Live state of each environment, read in parallel, with the windows holding it."""
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(names)))) as pool:
            reads = list(pool.map(self._read, names))
        result = []
        with self._sessions.begin() as session:
            for name, (live, error) in zip(names, reads, strict=True):
                holders = ledger.windows_on(session, name, [s.value for s in HOLDING])
                baseline = ledger.held_baseline(session, name)
                result.append(
                    EnvironmentStatus(
                        name=name,
                        live=live,
                        error=error,
                        holders=tuple(WindowView.of(w) for w in holders),
                        baseline=(
                            Schedule(baseline.nightly, baseline.realtime) if baseline else None
                        ),
                    )
                )
        return result

    def windows(self, which: str, limit: int = 20) -> list[WindowView]:
        """``active``, ``upcoming`` or ``recent`` windows."""
        states, newest = {
            "active": (HOLDING, False),
            "upcoming": (UPCOMING, False),
            "recent": (RECENT, True),
        }[which]
        with self._sessions.begin() as session:
            found = ledger.windows_in(
                session, [s.value for s in states], newest_first=newest, limit=limit
            )
            return [WindowView.of(w) for w in found]

    def history(self, environment: str | None, limit: int) -> list[HistoryEntry]:
        """The newest audit events, newest first."""
        with self._sessions.begin() as session:
            return [
                HistoryEntry(e.at, e.actor, e.action, e.window_id, e.environment, e.detail)
                for e in ledger.history(session, environment, limit)
            ]

    def _read(self, name: str) -> tuple[Schedule | None, str | None]:
        try:
            return self._clients[name].read_schedule().schedule, None
        except CoursedogError as exc:
            return None, str(exc)
