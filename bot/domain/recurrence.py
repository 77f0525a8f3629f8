"""Recurring windows: an RFC 5545 recurrence rule over a wall time in a named zone.

A series keeps its rule text (``FREQ=WEEKLY;BYDAY=SA``), the wall time of its first
occurrence (DTSTART, naive, in the series' zone) and either an elapsed length or a wall-clock
end. Occurrences are expanded in wall time and only then pinned to instants, so 02:30 stays
02:30 local on both sides of a daylight-saving change.

The local dates a series skips (its EXDATEs) are part of the value: every expansion leaves
them out, so nothing that asks for a series' occurrences (blackout checks among them) can
forget them.

Wall times that do not exist or happen twice are read as RFC 5545 (3.3.5) reads them:
- in a spring-forward gap, with the offset before the change (02:30 becomes 03:30 EDT in
  New York): the occurrence is moved, not dropped, and carries a note that says so;
- in a fall-back fold, the first of the two (the earlier instant), also with a note.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from bot.domain.durations import format_duration
from bot.errors import InputError

CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINAL_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
# How far ahead to look when checking that occurrences never overlap each other: a year
# always contains both daylight-saving changes.
OVERLAP_CHECK = timedelta(days=370)


def weekly(days: Sequence[int]) -> str:
    """The rule for the given weekdays (0 = Monday) every week; all seven is every day."""
    unique = sorted(set(days))
    if len(unique) == 7:
        return "FREQ=DAILY"
    return "FREQ=WEEKLY;BYDAY=" + ",".join(CODES[d] for d in unique)


def monthly(ordinal: int, weekday: int) -> str:
    """The rule for the ``ordinal``-th (1-4, or -1 for the last) ``weekday`` of each month."""
    if ordinal not in ORDINAL_NAMES:
        raise ValueError(f"unsupported ordinal {ordinal}")
    return f"FREQ=MONTHLY;BYDAY={ordinal}{CODES[weekday]}"


@dataclass(frozen=True)
class Occurrence:
    """One occurrence: its local date (its identity), its instants, and what to know."""

    on: date
    start: datetime
    end: datetime
    note: str | None = None


def pin(day: date, wall: time, zone: str) -> tuple[datetime, str | None]:
    """``wall`` on ``day`` in ``zone`` as a UTC instant, read as RFC 5545 reads it."""
    tz = ZoneInfo(zone)
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=tz)
    at = first.astimezone(UTC)
    local = at.astimezone(tz)
    if local.replace(tzinfo=None) != naive:
        return at, (
            f"{wall:%H:%M} does not exist on {_day(day)} in {zone} (clocks spring forward), "
            f"so it is read with the offset before the change: {local:%H:%M} {local.tzname()}."
        )
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        return at, (
            f"{wall:%H:%M} happens twice on {_day(day)} in {zone} (clocks fall back); "
            f"this is the first one ({first.tzname()})."
        )
    return at, None


@dataclass(frozen=True)
class Recurrence:
    """When a series' occurrences happen.

    ``dtstart`` is the naive wall time of the first occurrence in ``zone``; each occurrence
    lasts ``duration`` (elapsed time) or, when ``ends_wall`` is set, until that wall time
    (the same day when it is later than the start, else the next day). ``skipped``: local
    dates that have no occurrence although the rule gives one.
    """

    rule: str
    dtstart: datetime
    zone: str
    duration: timedelta
    ends_wall: time | None = None
    skipped: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.dtstart.tzinfo is not None:
            raise ValueError("dtstart is a wall time: it must be naive")
        if self.duration <= timedelta(0):
            raise ValueError("an occurrence must last")
        self._rrule()  # refuse a rule dateutil cannot read

    @property
    def wall(self) -> time:
        """The local start time of every occurrence."""
        return self.dtstart.time()

    def with_times(self, wall: time, duration: timedelta, ends_wall: time | None) -> Recurrence:
        """The same days (the same ones skipped) at another time or for another length."""
        return replace(
            self,
            dtstart=datetime.combine(self.dtstart.date(), wall),
            duration=duration,
            ends_wall=ends_wall,
        )

    def between(self, after: datetime, until: datetime) -> list[Occurrence]:
        """Occurrences that start in ``(after, until]``."""
        low, high = self._local(after) - timedelta(days=2), self._local(until) + timedelta(days=2)
        days = (n.date() for n in self._rrule().between(low, high, inc=True))
        found = (self._occurrence(day) for day in days if day not in self.skipped)
        return [o for o in found if after < o.start <= until]

    def upcoming(self, after: datetime, count: int) -> list[Occurrence]:
        """The next ``count`` occurrences that start after ``after``."""
        return list(islice(self._after(after), count))

    def next_after(self, after: datetime) -> Occurrence | None:
        """The first occurrence starting after ``after`` (None when the rule has ended)."""
        return next(self._after(after), None)

    def on(self, day: date) -> Occurrence | None:
        """The occurrence on local date ``day``, if there is one (a skipped date has none)."""
        if day in self.skipped:
            return None
        start = datetime.combine(day, time(0))
        hits = self._rrule().between(start, start + timedelta(days=1), inc=True)
        return self._occurrence(day) if any(h.date() == day for h in hits) else None

    def overlap_problem(self, after: datetime) -> str | None:
        """Why occurrences in the coming year would overlap each other, if they would."""
        found = self.between(after, after + OVERLAP_CHECK)
        for current, following in pairwise(found):
            if current.end > following.start:
                return (
                    f"occurrences would overlap: the one on {_day(current.on)} lasts past the "
                    f"start of the next, on {_day(following.on)}. Make it shorter."
                )
        return None

    def describe(self) -> str:
        """``every Saturday at 02:30 for 1h, America/New_York``; with a wall-clock end
        ``every Monday and Thursday 22:00-23:30, America/Chicago``."""
        when = (
            f"{self.wall:%H:%M}-{self.ends_wall:%H:%M}"
            if self.ends_wall is not None
            else f"at {self.wall:%H:%M} for {format_duration(self.duration)}"
        )
        return f"{describe_rule(self.rule)} {when}, {self.zone}"

    # -- helpers -------------------------------------------------------------------------

    def _rrule(self) -> rrule:
        try:
            parsed = rrulestr(self.rule, dtstart=self.dtstart)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a recurrence rule: {self.rule!r}") from exc
        assert isinstance(parsed, rrule)
        return parsed

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)

    def _after(self, after: datetime) -> Iterator[Occurrence]:
        low = self._local(after) - timedelta(days=2)
        for naive in self._rrule().xafter(low, inc=True):
            if naive.date() in self.skipped:
                continue
            occurrence = self._occurrence(naive.date())
            if occurrence.start > after:
                yield occurrence

    def _occurrence(self, day: date) -> Occurrence:
        start, note = pin(day, self.wall, self.zone)
        if self.ends_wall is None:
            return Occurrence(day, start, start + self.duration, note)
        end_day = day if self.ends_wall > self.wall else day + timedelta(days=1)
        end, end_note = pin(end_day, self.ends_wall, self.zone)
        if end <= start:  # a start moved out of a gap past its wall-clock end: keep the length
            end = start + self.duration
        notes = " ".join(n for n in (note, end_note) if n)
        return Occurrence(day, start, end, notes or None)


def nominal_length(wall: time, ends_wall: time) -> timedelta:
    """How long ``wall`` to ``ends_wall`` lasts on a day without a clock change."""
    start = datetime.combine(date(2000, 1, 3), wall)
    end = datetime.combine(date(2000, 1, 3), ends_wall)
    if end <= start:
        end += timedelta(days=1)
    return end - start


def describe_rule(rule: str) -> str:
    """``every Saturday``, ``every Monday and Thursday``, ``the first Saturday of every month``."""
    parts = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    freq, byday = parts.get("FREQ"), parts.get("BYDAY", "")
    if freq == "DAILY":
        return "every day"
    if freq == "MONTHLY" and byday:
        ordinal, code = int(byday[:-2]), byday[-2:]
        return f"the {ORDINAL_NAMES[ordinal]} {DAY_NAMES[CODES.index(code)]} of every month"
    names = [DAY_NAMES[CODES.index(code)] for code in byday.split(",") if code in CODES]
    if not names:
        return rule
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"every {listed}"


def first_occurrence(rule: str, wall: time, zone: str, now: datetime) -> Occurrence:
    """The first occurrence after ``now`` of ``rule`` at ``wall``: the series' DTSTART."""
    today = now.astimezone(ZoneInfo(zone)).date()
    probe = Recurrence(rule, datetime.combine(today, wall), zone, timedelta(minutes=1))
    found = probe.next_after(now)
    if found is None:
        raise InputError("That rule has no occurrence after now.")
    return found


def _day(day: date) -> str:
    """``Sun 8 Mar 2026``."""
    return f"{day:%a} {day.day} {day:%b %Y}"
