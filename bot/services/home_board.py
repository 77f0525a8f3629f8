"""What the App Home shows, read once for everyone who looks at it, and who may press what.

A refresh reads the ledger, Coursedog (briefly cached) and the approvers' groups once, into a
``HomeBoard``; each viewer's tab is then rendered from it with only the buttons that viewer
may press. The rules are those of bot.services.access: approvers (groups expanded) decide,
never on their own request; the requester or an approver ends, extends or cancels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.domain.blackouts import Blackout
from bot.domain.series_states import SeriesState
from bot.domain.states import HOLDING
from bot.services.access import Access
from bot.services.blackouts import BlackoutService
from bot.services.series import SeriesService
from bot.services.series_view import SeriesView
from bot.services.status import RECENT, UPCOMING, EnvironmentStatus, StatusService
from bot.services.views import WindowView
from storage import audit, reporting, windows
from storage.db import reading

# Windows read per group: more than a tab can show, so it can say how many it left out.
WINDOWS_READ = 40
RECENT_READ = 5


@dataclass(frozen=True)
class HomeBoard:
    """One reading of everything the App Home shows; ``may_*`` answer for each viewer."""

    now: datetime
    statuses: tuple[EnvironmentStatus, ...]
    active: tuple[WindowView, ...]
    upcoming: tuple[WindowView, ...]
    recent: tuple[WindowView, ...]
    # How many windows are active and upcoming in all (the tuples hold the first ones).
    active_total: int
    upcoming_total: int
    series: tuple[SeriesView, ...]
    blackouts: tuple[Blackout, ...]
    # Environments (as a window or series names them) -> who approves on every one of them.
    approvers: Mapping[tuple[str, ...], frozenset[str]]
    # Why some approvers are missing (a user group that could not be read).
    problems: tuple[str, ...] = ()
    # Where the audit trail stood before the reading (see ``HomeBoards.mark``).
    mark: int | None = None

    def may_decide(self, environments: Sequence[str], requester: str, viewer: str) -> bool:
        """Whether ``viewer`` may approve or deny a request for ``environments``."""
        return viewer != requester and viewer in self._approvers(environments)

    def may_manage(self, environments: Sequence[str], requester: str, viewer: str) -> bool:
        """Whether ``viewer`` may end, extend or cancel a window on ``environments``."""
        return viewer == requester or viewer in self._approvers(environments)

    def _approvers(self, environments: Sequence[str]) -> frozenset[str]:
        return self.approvers.get(tuple(environments), frozenset())


class HomeBoards:
    """Reads a ``HomeBoard``: a few short transactions, Coursedog reads reused for a while."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        access: Access,
        status: StatusService,
        series: SeriesService,
        blackouts: BlackoutService,
        environments: Sequence[str],
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._access = access
        self._status = status
        self._series = series
        self._blackouts = blackouts
        self._environments = list(environments)

    def mark(self) -> int | None:
        """Where the audit trail stands: every change to the ledger moves it (on any replica)."""
        with reading(self._sessions) as session:
            return audit.newest_id(session)

    def forget(self) -> None:
        """Read Coursedog again next time (a change may have switched merges)."""
        self._status.forget()

    def read(self, *, max_age: float) -> HomeBoard:
        """Everything the tab shows; a Coursedog read younger than ``max_age`` s is reused."""
        mark = self.mark()  # first: a change made while reading moves it past the board's
        statuses = self._status.environments(self._environments, max_age=max_age)
        with reading(self._sessions) as session:
            active = _views(session, HOLDING, WINDOWS_READ, newest_first=False)
            upcoming = _views(session, UPCOMING, WINDOWS_READ, newest_first=False)
            recent = _views(session, RECENT, RECENT_READ, newest_first=True)
            counts = reporting.window_counts(session)
        series = tuple(self._series.listing())
        blackouts = tuple(self._blackouts.listing())
        # Each environment alone (the tab tells a viewer where they approve), each window's
        # and each series' waiting for a decision.
        groups: list[Sequence[str]] = [(e,) for e in self._environments]
        groups += [w.environment_names for w in (*active, *upcoming)]
        groups += [s.environments for s in series if s.state == SeriesState.REQUESTED]
        approvers, problems = self._approvers(groups)
        return HomeBoard(
            now=self._clock.now(),
            statuses=tuple(statuses),
            active=active,
            upcoming=upcoming,
            recent=recent,
            active_total=sum(counts.get(s.value, 0) for s in HOLDING),
            upcoming_total=sum(counts.get(s.value, 0) for s in UPCOMING),
            series=series,
            blackouts=blackouts,
            approvers=approvers,
            problems=problems,
            mark=mark,
        )

    def _approvers(
        self, groups: Iterable[Sequence[str]]
    ) -> tuple[dict[tuple[str, ...], frozenset[str]], tuple[str, ...]]:
        """Who approves each set of environments, each set resolved once (groups cached)."""
        found: dict[tuple[str, ...], frozenset[str]] = {}
        problems: dict[str, None] = {}
        for envs in groups:
            key = tuple(envs)
            if key not in found:
                found[key], missing = self._access.resolve(key)
                problems.update(dict.fromkeys(missing))
        return found, tuple(problems)


def _views(
    session: Session, states: Iterable[str], limit: int, *, newest_first: bool
) -> tuple[WindowView, ...]:
    rows = windows.windows_in(session, list(states), newest_first=newest_first, limit=limit)
    return tuple(WindowView.of(w) for w in rows)
