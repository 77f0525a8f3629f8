"""The requests Slack sends an app, as the sandbox builds them: signatures, payload parts."""

from __future__ import annotations

import json
import time
from typing import Any

from slack_sdk.signature import SignatureVerifier

from bot.sandbox.slack_api import Message

APP_ID = "A0SANDBOX0"
FORM = "application/x-www-form-urlencoded"


class SandboxError(Exception):
    """The page asked for something that cannot happen (unknown person, closed form, ...)."""


def signed_headers(
    secret: str, body: str, content_type: str, *, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends with ``body``: its signature (slack_sdk's ``SignatureVerifier``)
    at ``timestamp`` (UNIX seconds, by default now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": str(signature),
    }


def home_opened(team: str, user: str, number: int) -> dict[str, Any]:
    """The event Slack sends when someone opens the app's Home tab."""
    return {
        "token": "sandbox",
        "team_id": team,
        "api_app_id": APP_ID,
        "type": "event_callback",
        "event_id": f"Ev{number:08d}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": user,
            "channel": f"D{user[1:]}",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        },
    }


def message_parts(message: Message, bot_user: str) -> dict[str, Any]:
    """What a block_actions payload says about the message whose button was pressed."""
    ephemeral = message.user is not None
    parts: dict[str, Any] = {
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": message.channel},
    }
    if not ephemeral:  # Slack does not include an ephemeral message itself
        event = {"type": "message", "user": bot_user, "ts": message.ts, "text": message.text}
        if message.thread_ts:
            event["thread_ts"] = message.thread_ts
        parts["message"] = {**event, "blocks": message.blocks}
    return parts


def button_action(blocks: list[dict[str, Any]], block: int, element: int | None) -> dict[str, Any]:
    """The action Slack reports for a button, read from the blocks as the bot posted them."""
    try:
        found = blocks[block]
        button = found["accessory"] if element is None else found["elements"][element]
    except (IndexError, KeyError, TypeError):
        raise SandboxError("that button is gone") from None
    if not isinstance(button, dict) or button.get("type") != "button":
        raise SandboxError("only buttons can be pressed in the sandbox")
    action = {
        "type": "button",
        "action_id": button.get("action_id", ""),
        "block_id": found.get("block_id") or f"sandbox-block-{block}",
        "text": button.get("text"),
        "action_ts": f"{time.time():.6f}",
    }
    for key in ("value", "style"):
        if key in button:
            action[key] = button[key]
    return action


def block_list(raw: Any) -> list[dict[str, Any]]:
    """Blocks as an app sends them (a list, or a JSON string of one)."""
    parsed = json.loads(raw) if isinstance(raw, str) else raw
    return [b for b in parsed if isinstance(b, dict)] if isinstance(parsed, list) else []
