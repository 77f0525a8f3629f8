"""Coursedog's nightly merge: when it runs, and whether a window covers it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class NightlyMerge:
    """The daily span in which the nightly merge usually runs (a wall-time span in a zone)."""

    start: time
    end: time
    zone: str

    def describe(self) -> str:
        """``01:30-03:00 America/New_York``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone}"

    def runs(self, day: date) -> tuple[datetime, datetime]:
        """That day's span as instants (an end before the start runs past midnight)."""
        tz = ZoneInfo(self.zone)
        begin = datetime.combine(day, self.start, tz)
        finish = datetime.combine(day, self.end, tz)
        if finish <= begin:
            finish += timedelta(days=1)
        return begin, finish

    def covered_by(self, starts_at: datetime, ends_at: datetime) -> bool:
        """Whether any night's merge span overlaps the window."""
        first = starts_at.astimezone(ZoneInfo(self.zone)).date() - timedelta(days=1)
        last = ends_at.astimezone(ZoneInfo(self.zone)).date()
        day = first
        while day <= last:
            begin, finish = self.runs(day)
            if begin < ends_at and starts_at < finish:
                return True
            day += timedelta(days=1)
        return False
