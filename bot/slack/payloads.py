"""Parsing what Slack sends back in buttons: the one place that reads action values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.errors import InputError

MAX_WINDOW_ID = 10**9


@dataclass(frozen=True)
class WindowAction:
    """A click on a button that carries a window number."""

    action_id: str
    window_id: int
    user_id: str
    channel_id: str | None
    message_ts: str | None


def window_button_value(window_id: int) -> str:
    """What a window button carries."""
    return str(window_id)


def parse_window_action(body: Mapping[str, Any]) -> WindowAction:
    """Read a block_actions payload for a window button; refuse anything malformed."""
    try:
        action = body["actions"][0]
        raw = str(action["value"])
        user_id = str(body["user"]["id"])
        action_id = str(action["action_id"])
    except (KeyError, IndexError, TypeError):
        raise InputError("That button press arrived incomplete; try again.") from None
    if not raw.isdigit() or not 0 < int(raw) < MAX_WINDOW_ID:
        raise InputError("That button does not name a window.")
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return WindowAction(
        action_id=action_id,
        window_id=int(raw),
        user_id=user_id,
        channel_id=channel,
        message_ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
    )
