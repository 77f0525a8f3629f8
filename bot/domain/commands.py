"""Every command the bot reads: recurring series, blackout periods and the trailing
``--override <reason>`` here; the rest (start, schedule, end, ...) in bot.domain.grammar.

``--override <reason>`` ends a ``start``, ``schedule`` or ``series edit``: an approver's
explicit decision to go ahead inside a blackout period, with the reason kept on record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain.blackout_grammar import BlackoutCommand, parse_blackout
from bot.domain.grammar import (
    MAX_REASON,
    Command,
    ScheduleCommand,
    StartCommand,
    parse_command,
)
from bot.domain.help_topics import HELP_WORDS
from bot.domain.series_grammar import (
    SeriesCommand,
    SeriesEditCommand,
    SeriesEndCommand,
    SeriesRequestCommand,
    is_recurring,
    parse_series,
    parse_series_id,
    parse_series_request,
)
from bot.errors import InputError

# Some keyboards turn "--" into a dash; those spellings mean the same.
OVERRIDE_FLAGS = ("--override", "\u2014override", "\u2013override")

AnyCommand = Command | SeriesCommand | BlackoutCommand
_OVERRIDABLE = (StartCommand, ScheduleCommand, SeriesRequestCommand, SeriesEditCommand)


def parse(
    text: str,
    environments: Mapping[str, str],
    *,
    now: datetime | None = None,
    zone_of: Callable[[str], str] | None = None,
    default_zone: str = "UTC",
) -> AnyCommand:
    """Parse what follows ``/sis-maint``; see parse_command for the arguments."""
    head = text.split(maxsplit=1)[:1]
    if head and head[0].lower() in HELP_WORDS:
        # `help --override` asks about the flag rather than using it.
        return parse_command(text, environments, now=now, zone_of=zone_of)
    words, override = split_override(text.split())
    command = _parse_words(words, environments, now, zone_of, default_zone)
    if override is None:
        return command
    if not isinstance(command, _OVERRIDABLE):
        raise InputError(
            "`--override <reason>` goes at the end of `start`, `schedule` or `series edit`: "
            "it lets an approver go ahead inside a blackout period."
        )
    return replace(command, override=override)


def split_override(words: Sequence[str]) -> tuple[list[str], str | None]:
    """The words before ``--override``, and the reason after it (None without the flag)."""
    lowered = [w.lower() for w in words]
    at = next((i for i, w in enumerate(lowered) if w in OVERRIDE_FLAGS), None)
    if at is None:
        return list(words), None
    reason = " ".join(words[at + 1 :]).strip()
    if not reason:
        raise InputError(
            "Say why after `--override`, e.g. `--override registrar agreed, INC-42`; "
            "the reason is kept in the audit trail and shown on the card."
        )
    if len(reason) > MAX_REASON:
        raise InputError(
            f"The override reason is {len(reason)} characters; keep it under {MAX_REASON}."
        )
    return list(words[:at]), reason


def _parse_words(
    words: list[str],
    environments: Mapping[str, str],
    now: datetime | None,
    zone_of: Callable[[str], str] | None,
    default_zone: str,
) -> AnyCommand:
    head = words[0].lower() if words else ""
    if head == "schedule" and len(words) > 2 and is_recurring(words[2:]):
        if now is None or zone_of is None:
            raise ValueError("parsing a series needs now and zone_of")
        return parse_series_request(words[1:], environments, now=now, zone_of=zone_of)
    if head == "series":
        return parse_series(words[1:])
    if head in ("blackout", "blackouts"):
        return parse_blackout(
            words[1:],
            environments,
            zone_of=zone_of or (lambda _env: default_zone),
            default_zone=default_zone,
        )
    if head == "end" and len(words) == 2 and (series_id := parse_series_id(words[1])):
        return SeriesEndCommand(series_id)
    return parse_command(" ".join(words), environments, now=now, zone_of=zone_of)
