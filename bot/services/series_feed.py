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

MAX_SERIES = 500


def upcoming(
    session: Session,
    settings: Settings,
    start: datetime,
    end: datetime,
    environment: str | None = None,
) -> list[UpcomingItem]:
    """Occurrences starting and blackout periods overlapping ``[start, end)``, earliest first.

    An occurrence that already has its window (MW-n) is left out: the feed shows the window.
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
            changed_at=row.decided_at,
            version=row.version,
        )
        for row in recurring.series_in(session, [SeriesState.APPROVED], limit=MAX_SERIES)
    ]
    periods = blackouts.in_force(session, settings, ending_after=start)
    return upcoming_items(plans, periods, start, end, environment=environment)
