"""The handler of ``materialise_series`` actions: occurrences become windows with cards."""

from __future__ import annotations

from bot.clock import Clock
from bot.config import Settings
from bot.domain.due_payloads import Materialise
from bot.jobs.scheduler import Lease
from bot.services import occurrences
from bot.slack.series_notifier import SeriesNotifier


class SeriesJob:
    """Creates the occurrences due within the lookahead, then posts their cards."""

    def __init__(self, settings: Settings, clock: Clock, notices: SeriesNotifier) -> None:
        self._settings = settings
        self._clock = clock
        self._notices = notices

    def handle(self, lease: Lease) -> None:
        """Create in the lease's transaction; post after it commits."""
        series_id = lease.payload(Materialise).series_id
        with lease.transaction() as session:
            result = occurrences.materialise(session, self._settings, series_id, self._clock.now())
        if result is not None:
            self._notices.publish(result)
