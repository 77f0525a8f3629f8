"""Windows that overlap: allowed (merges stay off until the last one ends), but said so."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain.states import HOLDING, WindowState
from bot.services.views import WindowView
from storage import recurring

# Windows that hold, or are planned to hold, their environments off.
SCHEDULED = (WindowState.REQUESTED, WindowState.APPROVED, *HOLDING)


def overlapping(session: Session, view: WindowView, now: datetime) -> list[WindowView]:
    """Other scheduled windows on any of the window's environments whose time overlaps it."""
    if view.state not in SCHEDULED:
        return []
    start = view.starts_at or now
    end = view.ends_at or start + view.duration
    found = recurring.overlapping_windows(
        session, view.environment_names, start, end, SCHEDULED, now=now, exclude=view.id
    )
    return [WindowView.of(w) for w in found]
