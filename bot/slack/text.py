"""Text helpers for Slack mrkdwn: escaping and time formatting."""

from __future__ import annotations

from datetime import datetime

from bot.domain.timefmt import local_and_utc, local_time

__all__ = ["escape", "local_and_utc", "local_time", "slack_time", "user"]


def escape(text: str) -> str:
    """Escape user text so it cannot mention the channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_time(when: datetime, zone: str) -> str:
    """A Slack date token: each reader sees their own zone; the fallback is the window's zone."""
    return (
        f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{local_time(when, zone)}>"
    )


def user(user_id: str) -> str:
    """A user mention."""
    return f"<@{user_id}>"
