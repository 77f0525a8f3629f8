"""Wall times as people read them: local with the zone's offset, and the same instant in UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local_time(when: datetime, zone: str) -> str:
    """``Sat 5 Dec 22:00 CST (UTC-06:00)``: the wall time in ``zone`` with its offset."""
    local = when.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%a %-d %b %Y %H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def local_and_utc(when: datetime, zone: str) -> str:
    """The wall time in ``zone`` with its offset, and the same instant in UTC."""
    return f"{local_time(when, zone)} = {when.astimezone(ZoneInfo('UTC')):%Y-%m-%d %H:%M} UTC"
