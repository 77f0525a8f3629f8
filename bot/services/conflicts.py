"""Windows that overlap: allowed (merges stay off until the last one ends), but said so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain.states import HOLDING, WindowState
from bot.services.views import WindowView
from storage import recurring

# Windows that hold, or are planned to hold, their environments off.
SCHEDULED = (WindowState.REQUESTED, WindowState.APPROVED, *HOLDING)
# A card names this many overlapping windows, and counts the rest up to COUNTED in all.
SHOWN = 5
COUNTED = 100


@dataclass(frozen=True)
class Overlap:
    """Another window that overlaps: what a card says of it."""

    id: int
    state: WindowState
    environment_names: tuple[str, ...]
    starts_at: datetime | None
    ends_at: datetime | None

    @property
    def number(self) -> str:
        """MW-12."""
        return f"MW-{self.id}"

    @classmethod
    def of(cls, view: WindowView) -> Overlap:
        """The overlap a window's snapshot makes."""
        return cls(view.id, view.state, view.environment_names, view.starts_at, view.ends_at)


@dataclass(frozen=True)
class Overlaps:
    """Windows that overlap one window: the oldest few, and how many there are in all."""

    shown: tuple[Overlap, ...] = ()
    total: int = 0

    @property
    def more(self) -> int:
        """How many overlap beyond those shown (at least that many when ``capped``)."""
        return self.total - len(self.shown)

    @property
    def capped(self) -> bool:
        """Whether the count stopped at COUNTED: there may be more."""
        return self.total >= COUNTED


def overlapping(session: Session, view: WindowView, now: datetime) -> Overlaps:
    """Other scheduled windows on any of the window's environments whose time overlaps it."""
    if view.state not in SCHEDULED:
        return Overlaps()
    start = view.starts_at or now
    end = view.ends_at or start + view.duration
    found, total = recurring.overlap_summary(
        session,
        view.environment_names,
        start,
        end,
        SCHEDULED,
        now=now,
        exclude=view.id,
        shown=SHOWN,
        cap=COUNTED,
    )
    shown = (
        Overlap(w.id, WindowState(w.state), w.environments, w.starts_at, w.ends_at) for w in found
    )
    return Overlaps(tuple(shown), total)
