"""The smallest Block Kit pieces, shared by every renderer."""

from __future__ import annotations

from typing import Any

from bot.slack.text import without_emoji

Block = dict[str, Any]
# Slack's limit on the text of a section.
SECTION_TEXT = 3000


def message(text: str, blocks: list[Block] | None = None) -> dict[str, Any]:
    """chat.postMessage and chat.update arguments: ``blocks`` for people to see (``text`` in a
    section when there are none and it fits one), and ``text`` without emoji codes as the
    notification and fallback, where some clients would show the codes as typed."""
    if not blocks and len(text) <= SECTION_TEXT:
        blocks = [section(text)]
    return {"text": without_emoji(text) if blocks else text, "blocks": blocks or None}


def section(text: str) -> Block:
    """A mrkdwn section."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> Block:
    """A one-element mrkdwn context line."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def header(text: str) -> Block:
    """A plain-text header."""
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def button(action_id: str, text: str, value: str, style: str | None = None) -> Block:
    """A button; ``style`` is "primary" or "danger"."""
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(block_id: str, *elements: Block) -> Block:
    """A row of buttons."""
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}
