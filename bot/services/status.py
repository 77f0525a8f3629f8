"""Read-only questions: what is the state of each environment, which windows, what happened."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.domain.states import HOLDING, WindowState
from bot.services.schedule_api import ScheduleApi
from bot.services.views import WindowView
from coursedog.errors import CoursedogError
from coursedog.models import Schedule
from storage import audit, windows
from storage.db import reading

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
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._clients = clients
        self._clock = clock
        self._recent: dict[str, tuple[float, tuple[Schedule | None, str | None]]] = {}
        self._lock = threading.Lock()

    def environments(
        self, names: Sequence[str], *, max_age: float = 0.0
    ) -> list[EnvironmentStatus]:
        """Live state of each environment with the windows holding it.

        Reads run in parallel; with ``max_age`` a read younger than that many seconds is reused
        (the App Home refreshes often; ``status`` always reads).
        """
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(names)))) as pool:
            reads = list(pool.map(lambda name: self._read_cached(name, max_age), names))
        result = []
        with reading(self._sessions) as session:
            for name, (live, error) in zip(names, reads, strict=True):
                holders = windows.windows_on(session, name, [s.value for s in HOLDING])
                baseline = windows.held_baseline(session, name)
                result.append(
                    EnvironmentStatus(
                        name=name,
                        live=live,
                        error=error,
                        holders=tuple(WindowView.of(w) for w in holders),
                        baseline=(Schedule.of(baseline) if baseline else None),
                    )
                )
        return result

    def forget(self) -> None:
        """Drop remembered reads (something changed; the next look must read again)."""
        with self._lock:
            self._recent.clear()

    def windows(self, which: str, limit: int = 20) -> list[WindowView]:
        """``active``, ``upcoming`` or ``recent`` windows."""
        states, newest = {
            "active": (HOLDING, False),
            "upcoming": (UPCOMING, False),
            "recent": (RECENT, True),
        }[which]
        with self._sessions.begin() as session:
            found = windows.windows_in(
                session, [s.value for s in states], newest_first=newest, limit=limit
            )
            return [WindowView.of(w) for w in found]

    def history(self, environment: str | None, limit: int) -> list[HistoryEntry]:
        """The newest audit events, newest first."""
        with self._sessions.begin() as session:
            return [
                HistoryEntry(e.at, e.actor, e.action, e.window_id, e.environment, e.detail)
                for e in audit.history(session, environment, limit)
            ]

    def _read_cached(self, name: str, max_age: float) -> tuple[Schedule | None, str | None]:
        with self._lock:
            hit = self._recent.get(name)
        if hit is not None and self._clock() - hit[0] < max_age:
            return hit[1]
        client = self._clients.get(name)
        if client is None:
            return None, "no read access (switched by hand; people confirm each step)"
        try:
            result: tuple[Schedule | None, str | None] = (
                client.read_switches(),
                None,
            )
        except CoursedogError as exc:
            result = (None, str(exc))
        with self._lock:
            self._recent[name] = (self._clock(), result)
        return result
