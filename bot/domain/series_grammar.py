"""The grammar of recurring series.

schedule <env>[,<env>] every <days> <time> [zone] (<duration> | until <time>) [reason]
schedule <env>[,<env>] (first|second|third|fourth|last) <weekday> <time> [zone] (...) [reason]
series [list]
series skip S-<n> <YYYY-MM-DD>  |  series skip MW-<n>
series edit S-<n> <time> (<duration> | until <time>)
series end S-<n>            (also: end S-<n>)

<days> is a weekday, several joined by commas (``mon,thu``), ``day`` or ``weekday``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.domain.durations import looks_like_duration, parse_duration
from bot.domain.grammar import MAX_REASON, parse_window_id, resolve_environments
from bot.domain.recurrence import (
    Occurrence,
    Recurrence,
    first_occurrence,
    monthly,
    nominal_length,
    weekly,
)
from bot.domain.when import explicit_zone, is_date_like, is_day, parse_iso_date, parse_wall_time
from bot.errors import InputError

WEEKDAYS = {
    name: index
    for index, names in enumerate(
        (
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        )
    )
    for name in names
}
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": -1,
}
_ORDINAL_LIKE = re.compile(r"^(\d+(st|nd|rd|th)|fifth|sixth|seventh|eighth|ninth|tenth)$")
_SERIES_ID = re.compile(r"^s-?(\d{1,9})$", re.IGNORECASE)
_USE_ORDINALS = "Use first, second, third, fourth or last, e.g. `schedule prod first sat 02:30 1d`."
_USE_WEEKDAYS = "Use mon, tue, wed, thu, fri, sat or sun"


@dataclass(frozen=True)
class SeriesRequestCommand:
    """Ask for a recurring window, approved once."""

    environments: tuple[str, ...]
    recurrence: Recurrence
    first: Occurrence
    reason: str
    override: str | None = None


@dataclass(frozen=True)
class SeriesListCommand:
    """Series and their next occurrences."""


@dataclass(frozen=True)
class SeriesSkipCommand:
    """Leave out one occurrence: by series and date, or by its window."""

    series_id: int | None = None
    day: date | None = None
    window_id: int | None = None


@dataclass(frozen=True)
class SeriesEditCommand:
    """New times for the occurrences that have not started."""

    series_id: int
    wall: time
    duration: timedelta
    ends_wall: time | None = None
    override: str | None = None


@dataclass(frozen=True)
class SeriesEndCommand:
    """No new occurrences."""

    series_id: int


SeriesCommand = (
    SeriesRequestCommand
    | SeriesListCommand
    | SeriesSkipCommand
    | SeriesEditCommand
    | SeriesEndCommand
)


def parse_series_id(text: str) -> int | None:
    """``S-3`` (any case, dash optional) -> 3; anything else -> None."""
    match = _SERIES_ID.match(text.strip())
    return int(match.group(1)) if match else None


def is_recurring(words: Sequence[str]) -> bool:
    """Whether ``schedule <env> <words...>`` asks for a series: ``every ...``, ``first sat``,
    or something ordinal-shaped before a weekday (refused with a specific message later)."""
    if not words:
        return False
    word = words[0].lower()
    if word == "every" or word in ORDINALS or _ORDINAL_LIKE.match(word):
        return True
    follows_weekday = len(words) > 1 and words[1].lower() in WEEKDAYS
    return follows_weekday and not is_day(word) and not is_date_like(word)


def parse_series_request(
    args: Sequence[str],
    environments: Mapping[str, str],
    *,
    now: datetime,
    zone_of: Callable[[str], str],
) -> SeriesRequestCommand:
    """``<env> every <days> <time> [zone] <length> [reason]`` or ``<env> first sat ...``."""
    envs = resolve_environments(args[0], environments)
    word = args[1].lower()
    if word == "every":
        if len(args) < 3:
            raise InputError("Say which days after `every`, e.g. `every sat` or `every mon,thu`.")
        rule = _days_rule(args[2])
    else:
        ordinal = _ordinal(args[1])
        if len(args) < 3:
            raise InputError(f"Say which weekday after `{args[1]}`, e.g. `{args[1]} sat`.")
        rule = monthly(ordinal, _weekday(args[2]))
    if len(args) < 4:
        raise InputError(
            f"Say what time, e.g. `schedule {args[0]} {' '.join(args[1:3])} 02:30 1h`."
        )
    wall = parse_wall_time(args[3])
    pos, zone = 4, zone_of(envs[0])
    given_zone = explicit_zone(args[4]) if len(args) > 4 else None
    if given_zone is not None:
        pos, zone = 5, given_zone
    duration, ends_wall, pos = _length(args, pos, wall)
    reason = " ".join(args[pos:])
    if len(reason) > MAX_REASON:
        raise InputError(f"The reason is {len(reason)} characters; keep it under {MAX_REASON}.")
    dtstart = datetime.combine(first_occurrence(rule, wall, zone, now).on, wall)
    recurrence = Recurrence(rule, dtstart, zone, duration, ends_wall)
    first = recurrence.next_after(now)
    assert first is not None  # dtstart itself comes after now
    return SeriesRequestCommand(envs, recurrence, first, reason)


def parse_series(args: Sequence[str]) -> SeriesCommand:
    """``series list|skip|edit|end ...``."""
    if not args or args[0].lower() == "list":
        if len(args) > 1:
            raise InputError("`series list` takes nothing more.")
        return SeriesListCommand()
    verb = args[0].lower()
    if verb == "skip":
        return _parse_skip(args[1:])
    if verb == "edit":
        return _parse_edit(args[1:])
    if verb == "end":
        series_id = parse_series_id(args[1]) if len(args) == 2 else None
        if series_id is None:
            raise InputError("Say which series to end: `series end S-1`.")
        return SeriesEndCommand(series_id)
    raise InputError(
        f"`series {args[0]}` is not something I can do. Use `series list`, "
        "`series skip S-1 2026-12-12`, `series edit S-1 03:00 2h` or `series end S-1`."
    )


def _parse_skip(args: Sequence[str]) -> SeriesSkipCommand:
    if len(args) == 1 and (window_id := parse_window_id(args[0])) is not None:
        return SeriesSkipCommand(window_id=window_id)
    series_id = parse_series_id(args[0]) if args else None
    if series_id is None or len(args) != 2:
        raise InputError(
            "Say which occurrence: `series skip S-1 2026-12-12` (a date of the series) "
            "or `series skip MW-7` (an occurrence's window)."
        )
    day = parse_iso_date(args[1])
    if day is None:
        raise InputError(
            f"`{args[1]}` is not a date: write it as YYYY-MM-DD, "
            f"e.g. `series skip {args[0]} 2026-12-12`."
        )
    return SeriesSkipCommand(series_id=series_id, day=day)


def _parse_edit(args: Sequence[str]) -> SeriesEditCommand:
    series_id = parse_series_id(args[0]) if args else None
    if series_id is None or len(args) < 2:
        raise InputError(
            "Say which series and its new times: `series edit S-1 03:00 2h` "
            "or `series edit S-1 22:00 until 23:30`."
        )
    wall = parse_wall_time(args[1])
    duration, ends_wall, pos = _length(args, 2, wall)
    if pos < len(args):
        raise InputError(
            "`series edit` takes a time and a length only, e.g. `series edit S-1 03:00 2h`."
        )
    return SeriesEditCommand(series_id, wall, duration, ends_wall)


def _length(args: Sequence[str], pos: int, wall: time) -> tuple[timedelta, time | None, int]:
    """``<duration>`` or ``until <time>`` at ``pos``; an end not after the start is the next
    day."""
    if pos >= len(args):
        raise InputError(
            "Say how long each occurrence lasts: a duration such as `1h` "
            "or an end such as `until 03:30`."
        )
    token = args[pos]
    if token.lower() == "until":
        if pos + 1 >= len(args):
            raise InputError("Say when it ends after `until`, e.g. `until 03:30`.")
        end_token = args[pos + 1]
        if is_day(end_token):
            raise InputError(
                "For a series, `until` takes a time only, e.g. `until 06:00`; "
                "an end at or before the start falls on the next day."
            )
        ends_wall = parse_wall_time(end_token)
        _refuse_second_length(args[pos + 2 :], has_end=True)
        return nominal_length(wall, ends_wall), ends_wall, pos + 2
    if not looks_like_duration(token):
        raise InputError(
            f"`{token}` is not a duration or an end. Say how long each occurrence lasts, "
            "such as `1h`, or when it ends, such as `until 03:30`."
        )
    _refuse_second_length(args[pos + 1 :], has_end=False)
    return parse_duration(token), None, pos + 1


def _refuse_second_length(rest: Sequence[str], *, has_end: bool) -> None:
    if not rest:
        return
    word = rest[0].lower()
    if word == "until" or (has_end and looks_like_duration(word)):
        raise InputError(
            "Give either a duration such as `1h` or an end such as `until 03:30`, not both."
        )


def _days_rule(token: str) -> str:
    word = token.lower()
    if word in ("day", "days", "daily"):
        return weekly(range(7))
    if word in ("weekday", "weekdays"):
        return weekly(range(5))
    names = [n for n in word.split(",") if n]
    if not names:
        raise InputError("Say which days after `every`, e.g. `every sat` or `every mon,thu`.")
    return weekly([_weekday(name) for name in names])


def _weekday(token: str) -> int:
    word = token.lower()
    if word in WEEKDAYS:
        return WEEKDAYS[word]
    raise InputError(
        f"`{token}` is not a weekday. {_USE_WEEKDAYS} (or `day` for every day), "
        "e.g. `every mon,thu` or `first sat`."
    )


def _ordinal(token: str) -> int:
    word = token.lower()
    if word in ORDINALS:
        return ORDINALS[word]
    if _ORDINAL_LIKE.match(word):
        raise InputError(
            f"Not every month has a {token} one, so `{token}` cannot be used. {_USE_ORDINALS}"
        )
    raise InputError(f"`{token}` is not an ordinal I know. {_USE_ORDINALS}")
