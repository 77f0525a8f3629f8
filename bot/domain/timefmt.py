"""Moments in plain text, where Slack's date formatting does not render (mail, Coursedog's
Activity comments, modal text, notification fallbacks, refusals from the services).

One form: the wall time in the window's zone with the zone's name and offset,
``Sat 5 Dec 2026 22:00 CST (UTC-06:00)``. Slack messages show moments with Slack's own date
formatting instead (bot.slack.text), each reader in their own zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_time(when: datetime, zone: str, *, year: bool = True) -> str:
    """``Sat 5 Dec 2026 22:00 CST (UTC-06:00)``; without the year when ``year`` is False."""
    local = when.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    day = f"{local:%a %-d %b %Y}" if year else f"{local:%a %-d %b}"
    return f"{day} {local:%H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def wall_clock(when: datetime, zone: str) -> str:
    """``Sat 5 Dec 22:00 CST``: compact, for beside a moment already shown in full."""
    local = when.astimezone(ZoneInfo(zone))
    return f"{local:%a %-d %b %H:%M} {local.tzname()}"


def same_clock(when: datetime, zone: str, other: str) -> bool:
    """Whether clocks in ``zone`` and ``other`` read the same at ``when``."""
    return (
        when.astimezone(ZoneInfo(zone)).utcoffset() == when.astimezone(ZoneInfo(other)).utcoffset()
    )


def this_year(when: datetime, now: datetime, zone: str) -> bool:
    """Whether ``when`` falls in the same calendar year as ``now`` in ``zone``."""
    tz = ZoneInfo(zone)
    return when.astimezone(tz).year == now.astimezone(tz).year
