"""Durations as people type them: 45m, 2h, 1h30m, 1d, 90m."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.errors import InputError, quote

_DURATION = re.compile(r"^(?:(?P<d>\d{1,3})d)?(?:(?P<h>\d{1,4})h)?(?:(?P<m>\d{1,5})m(?:in)?)?$")


_UNITS = {
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
}


def spelled_duration(words: list[str]) -> str | None:
    """A duration written in several words (``2 hours``, ``1 h 30 min``, ``1h 30m``) as the one
    word the grammar reads (``2h``, ``1h30m``); None if the words are not a duration."""
    text = " ".join(words).lower()
    parts = re.findall(r"(\d{1,5})\s*([a-z]+)", text)
    if not parts or re.sub(r"(\d{1,5})\s*([a-z]+)", "", text).strip(" ,") not in ("", "and"):
        return None
    units = [_UNITS.get(unit) for _, unit in parts]
    if None in units or len(set(units)) != len(units):
        return None
    compact = "".join(f"{n}{u}" for (n, _), u in zip(parts, units, strict=True))
    return compact if _DURATION.match(compact) else None


def looks_like_duration(text: str) -> bool:
    """True for text shaped like a duration (it may still be zero or too long)."""
    return bool(text) and _DURATION.match(text.lower()) is not None


def parse_duration(text: str) -> timedelta:
    """Parse ``1d``, ``2h``, ``1h30m``, ``45m``; refuse anything else or zero."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or match is None:
        raise InputError(
            f"{quote(text)} is not a duration. Use minutes, hours and days, "
            "for example `45m`, `2h`, `1h30m` or `1d`."
        )
    parts = {k: int(v) for k, v in match.groupdict(default="0").items()}
    value = timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"])
    if value <= timedelta(0):
        raise InputError(
            f"{quote(text)} is no time at all: a maintenance window must last at least one minute."
        )
    return value


def format_duration(value: timedelta) -> str:
    """Render a duration compactly: ``1d 2h``, ``1h 30m``, ``45m``."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return " ".join(parts) or "0m"
