"""Text helpers for Slack mrkdwn: escaping and time formatting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def escape(text: str) -> str:
    """Escape user text so it cannot mention the channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def local_time(when: datetime, zone: str) -> str:
    """``Sat 5 Dec 22:00 CST (UTC-06:00)``: the wall time in ``zone`` with its offset."""
    local = when.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%a %-d %b %Y %H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def slack_time(when: datetime, zone: str) -> str:
    """A Slack date token: each reader sees their own zone; the fallback is the window's zone."""
    return (
        f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{local_time(when, zone)}>"
    )


def user(user_id: str) -> str:
    """A user mention."""
    return f"<@{user_id}>"


def local_and_utc(when: datetime, zone: str) -> str:
    """The wall time in ``zone`` with its offset, and the same instant in UTC."""
    return f"{local_time(when, zone)} = {when.astimezone(ZoneInfo('UTC')):%Y-%m-%d %H:%M} UTC"
