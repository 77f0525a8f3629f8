"""For the calendar feed: future occurrences of approved series and blackout periods, read
from the ledger and the configuration and handed to the pure bot.domain.upcoming."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain.series_states import SeriesState
from bot.domain.upcoming import SeriesPlan, UpcomingItem, upcoming_items
from bot.services import blackouts
from bot.services.series_view import recurrence_of
from storage import recurring
from storage.models import Series

MAX_SERIES = 500


def upcoming(
    session: Session,
    settings: Settings,
    start: datetime,
    end: datetime,
    environment: str | None = None,
) -> list[UpcomingItem]:
    """Occurrences starting and blackout periods overlapping ``[start, end)``, earliest first,
    ``start`` being now.

    An occurrence that already has its window (MW-n) is left out: the feed shows the window.
    Each item carries when it last changed: a series' occurrences its approval or its last
    edit, a period when it was added (or, from the file, since when it has been as it is).
    """
    plans = [
        SeriesPlan(
            id=row.id,
            environments=tuple(row.environments),
            recurrence=recurrence_of(row),
            reason=row.reason,
            ticket=row.ticket,
            materialised=frozenset(
                w.occurrence_on
                for w in recurring.occurrence_windows(session, row.id)
                if w.occurrence_on is not None
            ),
            changed_at=_changed(row),
            version=row.version,
        )
        for row in recurring.series_in(session, [SeriesState.APPROVED], limit=MAX_SERIES)
    ]
    from_file = blackouts.note_configured(session, settings, start)
    periods = blackouts.in_force(session, settings, ending_after=start, from_file=from_file)
    return upcoming_items(plans, periods, start, end, environment=environment)


def _changed(row: Series) -> datetime | None:
    """When the series' occurrences last changed: its approval, or an edit after it."""
    times = [t for t in (row.decided_at, row.edited_at) if t is not None]
    return max(times, default=None)
