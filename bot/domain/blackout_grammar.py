"""The grammar of blackout periods (approvers only; everyone may list them).

blackout add [<env>[,<env>]] <date> [<time>] until <date> [<time>] [zone] <name>
blackout list
blackout remove B-<n>

A date without a time is the whole day: from 00:00, and an end date is included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.blackouts import parse_blackout_id, span_of
from bot.domain.grammar import resolve_environments
from bot.domain.when import (
    explicit_zone,
    is_date_like,
    is_time_like,
    parse_iso_date,
    parse_wall_time,
)
from bot.errors import InputError

MAX_NAME = 120
_EXAMPLE = "`blackout add 2027-01-11 until 2027-01-15 Registration opening`"


@dataclass(frozen=True)
class BlackoutAddCommand:
    """Record a period in which no window may be requested."""

    name: str
    starts_at: datetime
    ends_at: datetime
    zone: str
    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlackoutListCommand:
    """Periods that have not ended."""


@dataclass(frozen=True)
class BlackoutRemoveCommand:
    """Remove a period added in Slack."""

    blackout_id: int


BlackoutCommand = BlackoutAddCommand | BlackoutListCommand | BlackoutRemoveCommand


def parse_blackout(
    args: Sequence[str],
    environments: Mapping[str, str],
    *,
    zone_of: Callable[[str], str],
    default_zone: str,
) -> BlackoutCommand:
    """``blackout add|list|remove ...``."""
    if not args or args[0].lower() == "list":
        if len(args) > 1:
            raise InputError("`blackout list` takes nothing more.")
        return BlackoutListCommand()
    verb = args[0].lower()
    if verb == "remove":
        blackout_id = parse_blackout_id(args[1]) if len(args) == 2 else None
        if blackout_id is None:
            raise InputError(
                "Say which period: `blackout remove B-3` (`blackout list` shows the numbers; "
                "periods from the configuration file are removed there)."
            )
        return BlackoutRemoveCommand(blackout_id)
    if verb == "add":
        return _parse_add(args[1:], environments, zone_of=zone_of, default_zone=default_zone)
    raise InputError(
        f"`blackout {args[0]}` is not something I can do. Use `blackout add`, "
        "`blackout list` or `blackout remove B-3`."
    )


def _parse_add(
    args: Sequence[str],
    environments: Mapping[str, str],
    *,
    zone_of: Callable[[str], str],
    default_zone: str,
) -> BlackoutAddCommand:
    if not args:
        raise InputError(f"Say when and what, e.g. {_EXAMPLE}.")
    pos = 0
    envs: tuple[str, ...] = ()
    if not is_date_like(args[0]):
        envs = resolve_environments(args[0], environments)
        pos = 1
    start, pos = _moment(args, pos, "start")
    if pos >= len(args) or args[pos].lower() != "until":
        raise InputError(f"Say when the period ends with `until`, e.g. {_EXAMPLE}.")
    end, pos = _moment(args, pos + 1, "end")
    zone = zone_of(envs[0]) if envs else default_zone
    given = explicit_zone(args[pos]) if pos < len(args) else None
    if given is not None:
        zone, pos = given, pos + 1
    name = " ".join(args[pos:]).strip()
    if not name:
        raise InputError(f"Give the period a name, e.g. {_EXAMPLE}.")
    if len(name) > MAX_NAME:
        raise InputError(f"The name is {len(name)} characters; keep it under {MAX_NAME}.")
    starts_at, ends_at = span_of(start, end, zone)
    if ends_at <= starts_at:
        raise InputError("The period must end after it starts.")
    return BlackoutAddCommand(name, starts_at, ends_at, zone, envs)


def _moment(args: Sequence[str], pos: int, which: str) -> tuple[date | datetime, int]:
    """``<date> [<time>]`` at ``pos``."""
    if pos >= len(args):
        raise InputError(f"Say the {which} as a date, e.g. {_EXAMPLE}.")
    day = parse_iso_date(args[pos])
    if day is None:
        raise InputError(
            f"`{args[pos]}` is not a date: write the {which} as YYYY-MM-DD, "
            f"optionally with a time, e.g. `2027-01-11 08:00`."
        )
    if pos + 1 < len(args) and is_time_like(args[pos + 1]):
        return datetime.combine(day, parse_wall_time(args[pos + 1])), pos + 2
    return day, pos + 1
