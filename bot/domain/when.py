"""When a scheduled window starts and ends: days, wall times and zones as people type them.

<day> <time> [<zone>] (<duration> | until [<day>] <time>) [reason]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.domain.durations import looks_like_duration, parse_duration
from bot.errors import InputError, quote, shown

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEARS = (1970, 2999)
_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_AM_PM = re.compile(r"^(\d{1,2})(?::(\d{2}))?([ap])m$")
_TIME_LIKE = re.compile(r"^\d{1,2}(?:[:.]\d*)*(?:[ap]\.?m?\.?)?$")
_WEEKDAYS = {
    name: index
    for index, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
_RELATIVE_DAYS = {"today": 0, "tomorrow": 1}
_ABBREVIATIONS = frozenset(
    ("cst", "cdt", "est", "edt", "mst", "mdt", "pst", "pdt", "gmt", "bst", "cet", "cest")
)
_SAY_WHEN = (
    "Say when: `schedule prod 2026-12-05 22:00 4h`, `schedule prod sat 02:30 1h` "
    "or `schedule prod tomorrow 22:00 until 06:00`."
)
_TIMES = "Use `22:00`, `2:30`, `7am` or `10:30pm`."
_ZONES = "Use an IANA name such as `America/Chicago`, `Europe/London` or `UTC`."


@dataclass(frozen=True)
class ResolvedTime:
    """A wall time read in a zone, pinned to one instant."""

    at: datetime
    zone: str
    note: str | None = None


@dataclass(frozen=True)
class WhenSpec:
    """The start of a window and either its end or its length; ``rest`` is the reason."""

    start: ResolvedTime
    end: ResolvedTime | None
    duration: timedelta | None
    rest: tuple[str, ...]

    def __post_init__(self) -> None:
        if (self.end is None) == (self.duration is None):
            raise ValueError("a WhenSpec needs exactly one of end and duration")

    @property
    def end_at(self) -> datetime:
        """The end instant in UTC: the ``until`` time, or the start plus the elapsed duration."""
        if self.end is not None:
            return self.end.at
        assert self.duration is not None
        return self.start.at + self.duration


def resolve_wall_time(day: date, wall: time, zone: str) -> ResolvedTime:
    """Pin ``wall`` on ``day`` in ``zone`` to UTC; refuse a DST gap, take the first of a fold."""
    tz = _zone_info(zone)
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=tz)
    second = naive.replace(tzinfo=tz, fold=1)
    before, after = _offset(first), _offset(second)
    if before == after:
        return ResolvedTime(at=first.astimezone(UTC), zone=zone)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        jump = _transition(naive - after, naive - before, tz)
        raise InputError(
            f"{wall:%H:%M} does not exist on {_day(day)} in {zone}: clocks jump "
            f"{_jump(jump + before, jump + after)}."
        )
    note = (
        f"{wall:%H:%M} happens twice on {_day(day)} in {zone}; taking the first one "
        f"({first.tzname()}, {_utc_offset(before)})."
    )
    return ResolvedTime(at=first.astimezone(UTC), zone=zone, note=note)


def parse_when(words: Sequence[str], *, now: datetime, zone: str) -> WhenSpec:
    """Read ``<day> <time> [zone] (<duration> | until [<day>] <time>)``; the rest is the reason."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not words or not _is_day(words[0]):
        raise InputError(_not_a_start(words[0] if words else ""))
    if len(words) < 2:
        raise InputError(
            f"Say what time on {quote(words[0])}, e.g. `schedule prod {shown(words[0])} 22:00 4h`."
        )
    wall = _parse_wall(words[1])
    pos = 2
    explicit = _explicit_zone(words[pos]) if len(words) > pos else None
    if explicit is not None:
        zone, pos = explicit, pos + 1
    today = now.astimezone(_zone_info(zone)).date()
    start = _resolve_on(words[0], wall, zone, today, today, after=now)
    if len(words) <= pos:
        raise InputError(
            f"Say how long after {quote(' '.join(words[:pos]))}: a duration such as `4h` "
            "or an end such as `until 06:00`."
        )
    token = words[pos]
    end: ResolvedTime | None = None
    duration: timedelta | None = None
    if token.lower() == "until":
        end, pos = _parse_until(words, pos + 1, start, today)
    elif looks_like_duration(token):
        duration, pos = parse_duration(token), pos + 1
    else:
        raise InputError(_not_a_length(token))
    _refuse_leftovers(words[pos:], end is not None)
    return WhenSpec(start=start, end=end, duration=duration, rest=tuple(words[pos:]))


def _parse_until(
    words: Sequence[str], pos: int, start: ResolvedTime, today: date
) -> tuple[ResolvedTime, int]:
    """Read the end after ``until``: ``<time>`` or ``<day> <time>``; it must follow the start."""
    if pos >= len(words):
        raise InputError("Say when it ends after `until`, e.g. `until 06:00` or `until sun 06:00`.")
    token = words[pos]
    start_day = start.at.astimezone(_zone_info(start.zone)).date()
    if not _is_day(token):
        if not _TIME_LIKE.match(token.lower()):
            raise InputError(
                f"{quote(token)} is not a time. After `until`, say a time such as `06:00` "
                "or a day and a time such as `sun 06:00`."
            )
        wall = _parse_wall(token)
        days = (start_day, start_day + timedelta(days=1), start_day + timedelta(days=2))
        return _first_after(days, wall, start.zone, start.at), pos + 1
    if pos + 1 >= len(words):
        raise InputError(f"Say what time on {quote(token)}, e.g. `until {shown(token)} 06:00`.")
    wall = _parse_wall(words[pos + 1])
    end = _resolve_on(token, wall, start.zone, today, start_day, after=start.at)
    if end.at <= start.at:
        raise InputError(
            f"{quote(f'until {token} {words[pos + 1]}')} is not after the start, "
            f"{_describe(start.at, start.zone)}. Give an end after the start."
        )
    return end, pos + 2


def _resolve_on(
    token: str, wall: time, zone: str, today: date, week_from: date, *, after: datetime
) -> ResolvedTime:
    """Resolve ``<day> <wall>``; a weekday is the first from ``week_from`` past ``after``."""
    word = token.lower()
    if word in _WEEKDAYS:
        first = week_from + timedelta(days=(_WEEKDAYS[word] - week_from.weekday()) % 7)
        return _first_after((first + timedelta(weeks=k) for k in range(3)), wall, zone, after)
    if word in _RELATIVE_DAYS:
        return resolve_wall_time(today + timedelta(days=_RELATIVE_DAYS[word]), wall, zone)
    fixed = _parse_date(token)
    if fixed is None:
        raise InputError(f"{quote(token)} is not a day.")
    return resolve_wall_time(fixed, wall, zone)


def _first_after(days: Iterable[date], wall: time, zone: str, after: datetime) -> ResolvedTime:
    """The first of ``days`` whose ``wall`` in ``zone`` comes strictly after ``after``."""
    after_wall = after.astimezone(_zone_info(zone)).replace(tzinfo=None)
    for day in days:
        if datetime.combine(day, wall) <= after_wall:
            continue
        resolved = resolve_wall_time(day, wall, zone)
        if resolved.at > after:
            return resolved
    raise InputError(f"{wall:%H:%M} does not come after {_describe(after, zone)} in {zone}.")


def _is_day(token: str) -> bool:
    """True for ``today``, ``tomorrow``, a weekday or a valid ``YYYY-MM-DD``."""
    word = token.lower()
    return word in _WEEKDAYS or word in _RELATIVE_DAYS or _parse_date(token) is not None


def _is_day_or_time(token: str) -> bool:
    """True for a day word or something shaped like a time."""
    return _is_day(token) or _TIME_LIKE.match(token.lower()) is not None


def _parse_date(token: str) -> date | None:
    """``2026-12-05`` -> a date; ``None`` when not date-shaped; refuse impossible dates."""
    match = _DATE.match(token)
    if match is None:
        return None
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InputError(f"{quote(token)} is not a date.") from None
    if not _YEARS[0] <= day.year <= _YEARS[1]:
        # Far dates are refused by policy anyway; near year 9999 the arithmetic overflows.
        raise InputError(
            f"{quote(token)} is not a date a window can use: pick one in the coming months."
        )
    return day


def _parse_wall(token: str) -> time:
    """``22:00``, ``2:30``, ``7am``, ``10:30pm``, ``12am`` (midnight), ``12pm`` (noon)."""
    text = token.lower()
    if match := _CLOCK.match(text):
        hour, minute = int(match[1]), int(match[2])
        if hour > 23:
            raise InputError(
                f"{quote(token)} is not a time: hours go from 00 to 23 (midnight is `00:00`)."
            )
        return time(hour, _minute(token, minute))
    if match := _AM_PM.match(text):
        hour, minute, half = int(match[1]), int(match[2] or 0), match[3]
        if not 1 <= hour <= 12:
            hint = f" Without {half}m it is `{hour}:{minute:02d}`." if 12 < hour < 24 else ""
            raise InputError(
                f"{quote(token)} is not a time: with am or pm the hour goes from 1 to 12 "
                f"(`12am` is midnight, `12pm` is noon).{hint}"
            )
        return time(hour % 12 + (12 if half == "p" else 0), _minute(token, minute))
    if _TIME_LIKE.match(text):
        raise InputError(f"{quote(token)} is not a time I can read. {_TIMES}")
    raise InputError(f"{quote(token)} is not a time. {_TIMES}")


def _minute(token: str, minute: int) -> int:
    """Refuse minutes past 59."""
    if minute > 59:
        raise InputError(f"{quote(token)} is not a time: minutes go from 00 to 59.")
    return minute


def _explicit_zone(token: str) -> str | None:
    """An IANA zone name (any case) -> its canonical spelling; other words -> ``None``."""
    if "/" not in token and token.lower() != "utc":
        return None
    known = _known_zones().get(token.lower())
    if known is None:
        raise InputError(f"{quote(token)} is not a time zone I know. {_ZONES}")
    return known


@lru_cache(maxsize=1)
def _known_zones() -> dict[str, str]:
    """Lower-case IANA names -> their canonical spelling."""
    return {name.lower(): name for name in available_timezones()}


def _zone_info(zone: str) -> ZoneInfo:
    """Load a zone, refusing names zoneinfo does not know."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InputError(f"{quote(zone)} is not a time zone I know. {_ZONES}") from None


def _not_a_start(token: str) -> str:
    """Explain what belongs where the day should be."""
    if not token or looks_like_duration(token):
        return _SAY_WHEN
    if _DATE_LIKE.match(token):
        return (
            f"{quote(token)} is not a date I can read; "
            "write dates as `YYYY-MM-DD`, e.g. `2026-12-05`."
        )
    if _TIME_LIKE.match(token.lower()):
        return (
            f"Say the day before the time, e.g. `schedule prod today {token} 4h` "
            "or `schedule prod sat 02:30 1h`."
        )
    return (
        f"{quote(token)} is not a day. Start with `today`, `tomorrow`, a weekday such as `sat` "
        "or a date such as `2026-12-05`, e.g. `schedule prod sat 02:30 1h`."
    )


def _not_a_length(token: str) -> str:
    """Explain what belongs where the duration or ``until`` should be."""
    if token.lower() in _ABBREVIATIONS:
        return (
            f"{quote(token)} is not a time zone I can use. Put an IANA name right after the time, "
            "e.g. `schedule prod sat 02:30 America/Chicago 1h`."
        )
    return (
        f"{quote(token)} is not a duration or an end. Say how long, such as `4h`, "
        "or when it ends, such as `until 06:00`."
    )


def _refuse_leftovers(rest: Sequence[str], has_end: bool) -> None:
    """Refuse a second length or a zone typed after the length instead of after the start."""
    if not rest:
        return
    word = rest[0].lower()
    second_end = word == "until" and len(rest) > 1 and _is_day_or_time(rest[1])
    if second_end or (has_end and looks_like_duration(word)):
        raise InputError(
            "Give either a duration such as `4h` or an end such as `until 06:00`, not both."
        )
    if "/" in word and word in _known_zones():
        raise InputError(
            f"Put the time zone right after the start time; it covers both ends, "
            f"e.g. `schedule prod sat 22:00 {_known_zones()[word]} until 06:00`."
        )


def _transition(lo: datetime, hi: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant (naive) in ``(lo, hi]`` where the offset of ``tz`` changes."""
    offset = _offset(lo.replace(tzinfo=UTC).astimezone(tz))
    low, high = 0, int((hi - lo).total_seconds())
    while high - low > 1:
        mid = (low + high) // 2
        probe = (lo + timedelta(seconds=mid)).replace(tzinfo=UTC).astimezone(tz)
        low, high = (mid, high) if _offset(probe) == offset else (low, mid)
    return lo + timedelta(seconds=high)


def _jump(before: datetime, after: datetime) -> str:
    """``from 02:00 to 03:00``, naming the days when the jump crosses midnight."""
    if before.date() == after.date():
        return f"from {before:%H:%M} to {after:%H:%M}"
    return f"from {before:%H:%M} on {_day(before)} to {after:%H:%M} on {_day(after)}"


def _offset(at: datetime) -> timedelta:
    """The UTC offset of an aware datetime."""
    offset = at.utcoffset()
    assert offset is not None
    return offset


def _utc_offset(offset: timedelta) -> str:
    """``UTC-05:00``."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


def _day(day: date) -> str:
    """``Sun 8 Mar 2026``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def _describe(at: datetime, zone: str) -> str:
    """``Sat 5 Dec 2026 22:00 CST``, for messages."""
    local = at.astimezone(_zone_info(zone))
    return f"{_day(local.date())} {local:%H:%M} {local.tzname()}"


def parse_wall_time(token: str) -> time:
    """``22:00``, ``2:30``, ``7am``, ``10:30pm``; anything else is refused, saying why."""
    return _parse_wall(token)


def explicit_zone(token: str) -> str | None:
    """An IANA zone name (any case) -> its canonical spelling; other words -> ``None``."""
    return _explicit_zone(token)


def parse_iso_date(token: str) -> date | None:
    """``2026-12-05`` -> a date; ``None`` when not date-shaped; refuse impossible dates."""
    return _parse_date(token)


def is_time_like(token: str) -> bool:
    """Whether ``token`` is shaped like a time (it may still be an impossible one)."""
    return _TIME_LIKE.match(token.lower()) is not None


def is_date_like(token: str) -> bool:
    """Whether ``token`` is shaped like a date (it may still be an impossible one)."""
    return _DATE_LIKE.match(token) is not None


def is_day(token: str) -> bool:
    """Whether ``token`` names a day: ``today``, ``tomorrow``, a weekday or a date."""
    return _is_day(token)
