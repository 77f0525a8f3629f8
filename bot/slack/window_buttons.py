"""The buttons that act on a window, as the card, its thread and the App Home show them.

The destructive ones (End now, Re-enable now, Deny, Cancel) carry a Block Kit ``confirm``
dialog, so Slack asks before it sends the click. Which buttons a window shows depends on its
state only: who may press them is the services' decision (bot.services.access), the same as
for the commands.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.states import HOLDING, WindowState
from bot.services.views import WindowView
from bot.slack import ids
from bot.slack.button_values import WindowButton
from bot.slack.kit import Block, button

S = WindowState


def confirm(title: str, text: str, yes: str, no: str) -> dict[str, Any]:
    """A ``confirm`` dialog with a red confirm button; every text is plain (Slack shows the
    dialog's text as given, and mentions or dates would not render there)."""
    return {
        "title": {"type": "plain_text", "text": title},
        "text": {"type": "plain_text", "text": text},
        "confirm": {"type": "plain_text", "text": yes},
        "deny": {"type": "plain_text", "text": no},
        "style": "danger",
    }


def _envs(view: WindowView) -> str:
    return ", ".join(view.environment_names)


def _dialog(view: WindowView, action_id: str) -> dict[str, Any] | None:
    """The question asked before ``action_id`` acts on ``view``; None for a harmless button."""
    if action_id in (ids.REENABLE, ids.END_NOW):
        return confirm(
            f"End {view.number} now?",
            f"Merges on {_envs(view)} are switched back on now, as they were before the "
            "window. Only do this once the SIS maintenance is over.",
            "End now" if action_id == ids.END_NOW else "Re-enable now",
            "Keep it",
        )
    if action_id == ids.DENY:
        return confirm(
            f"Deny {view.number}?",
            f"The request to switch merges off on {_envs(view)} is refused; next you may give "
            "the requester a reason. This cannot be undone: they would have to ask again.",
            "Deny",
            "Back",
        )
    if action_id == ids.CANCEL:
        return confirm(
            f"Cancel {view.number}?",
            f"The window on {_envs(view)} will not happen, and the thread is told. This cannot "
            "be undone; it would have to be requested again.",
            "Cancel window",
            "Keep it",
        )
    return None


def window_button(
    action_id: str,
    text: str,
    view: WindowView,
    style: str | None = None,
    *,
    shown_end: datetime | None = None,
) -> Block:
    """One button on ``view``; Extend carries ``shown_end``, the end it extends."""
    element = button(action_id, text, WindowButton.showing(view.id, shown_end).encode(), style)
    dialog = _dialog(view, action_id)
    if dialog is not None:
        element["confirm"] = dialog
    return element


def card_buttons(view: WindowView) -> list[Block]:
    """What the approval card offers while it applies: a decision on a request, Cancel before
    the start, End now and Extend 1h while merges are held off; nothing once it is over."""
    if view.state == S.REQUESTED:
        return [
            window_button(ids.APPROVE, "Approve", view, "primary"),
            window_button(ids.DENY, "Deny", view, "danger"),
            window_button(ids.CANCEL, "Cancel", view),
        ]
    if view.state == S.APPROVED:
        return [window_button(ids.CANCEL, "Cancel", view, "danger")]
    if view.state in HOLDING:
        return [
            window_button(ids.EXTEND_60, "Extend 1h", view, shown_end=view.ends_at),
            window_button(ids.END_NOW, "End now", view, "danger"),
        ]
    return []
