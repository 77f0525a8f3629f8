"""Parsing what Slack sends back from buttons and forms into typed inputs; the values the
buttons carry are read by bot.slack.button_values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.requests import LATEST, RequestForm
from bot.errors import InputError
from bot.slack import ids
from bot.slack.button_values import WindowButton, digits


@dataclass(frozen=True)
class WindowAction:
    """A click on a button that carries a window number."""

    action_id: str
    window_id: int
    user_id: str
    channel_id: str | None
    message_ts: str | None
    # For Extend: the end (UNIX seconds) the button was shown with, so that the same press
    # arriving several times extends once.
    shown_end: int | None = None


def parse_window_action(body: Mapping[str, Any], what: str = "window") -> WindowAction:
    """Read a block_actions payload for a button carrying a number (a window's, unless
    ``what`` says otherwise); refuse anything malformed."""
    try:
        action = body["actions"][0]
        raw = str(action["value"])
        user_id = str(body["user"]["id"])
        action_id = str(action["action_id"])
    except (KeyError, IndexError, TypeError):
        raise InputError("That button press arrived incomplete; try again.") from None
    button = WindowButton.decode(raw, what)
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return WindowAction(
        action_id=action_id,
        window_id=button.window_id,
        user_id=user_id,
        channel_id=channel,
        message_ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
        shown_end=button.shown_end,
    )


@dataclass(frozen=True)
class NoticeSubmit:
    """*Sent it* pressed on the modal of a notice draft: who, and which version it showed."""

    user_id: str
    notice_id: int


def parse_notice_submit(body: Mapping[str, Any]) -> NoticeSubmit:
    """Read the submission of a notice draft's modal (the version is its private_metadata)."""
    user_id = _text(_mapping(body.get("user")).get("id"))
    raw = _text(_mapping(body.get("view")).get("private_metadata"))
    if not user_id:
        raise InputError("That form arrived without saying who sent it; try again.")
    return NoticeSubmit(user_id, WindowButton.decode(raw, "notice").window_id)


def trigger_of(body: Mapping[str, Any]) -> str:
    """The trigger_id of a click (to open a form), or InputError when it has none."""
    trigger = _text(body.get("trigger_id"))
    if not trigger:
        raise InputError("That click arrived without what Slack needs to open a form; try again.")
    return trigger


def parse_request_form(view: Mapping[str, Any]) -> RequestForm:
    """Read the request modal's submitted state; unknown, missing or odd fields read as empty."""
    values = _mapping(_mapping(view.get("state")).get("values"))

    def field(block: str) -> Mapping[str, Any]:
        return _mapping(_mapping(values.get(block)).get(ids.FIELD_ACTION))

    options = field(ids.B_ENVS).get("selected_options")
    envs = tuple(
        _text(_mapping(option).get("value"))
        for option in (options if isinstance(options, list) else [])
    )
    when = _mapping(field(ids.B_WHEN).get("selected_option")).get("value", ids.WHEN_NOW)
    return RequestForm(
        environments=tuple(e for e in envs if e),
        start_now=when != ids.WHEN_AT,
        start=_timestamp(field(ids.B_START).get("selected_date_time")),
        length=_text(field(ids.B_LENGTH).get("value")),
        end=_timestamp(field(ids.B_END).get("selected_date_time")),
        reason=_text(field(ids.B_REASON).get("value")),
        ticket=_text(field(ids.B_TICKET).get("value")),
    )


@dataclass(frozen=True)
class DenyForm:
    """The Deny modal submitted: which window, by whom, and the reason (maybe empty)."""

    window_id: int
    user_id: str
    reason: str


def parse_deny_form(body: Mapping[str, Any], most: int) -> DenyForm:
    """Read the Deny modal's submission: the window from its metadata, the reason (at most
    ``most`` characters) from its one field."""
    view = _mapping(body.get("view"))
    user_id = _text(_mapping(body.get("user")).get("id"))
    raw = _text(view.get("private_metadata"))
    if not user_id or not raw:
        raise InputError("That form arrived incomplete; press Deny again.")
    window = WindowButton.decode(raw)
    values = _mapping(_mapping(view.get("state")).get("values"))
    field = _mapping(_mapping(values.get(ids.B_DENY_REASON)).get(ids.FIELD_ACTION))
    reason = _text(field.get("value")).strip()
    if len(reason) > most:
        raise InputError(
            f"The reason is {len(reason)} characters long; at most {most} fit.", field="reason"
        )
    return DenyForm(window.window_id, user_id, reason)


@dataclass(frozen=True)
class StartChoice:
    """A change of the form's start choice: which open form, its version, and the choice."""

    view_id: str
    view_hash: str | None
    start: str  # ids.WHEN_NOW or ids.WHEN_AT


def parse_start_choice(body: Mapping[str, Any]) -> StartChoice:
    """The form's start radio buttons changed; anything but ``at`` reads as ``now``."""
    view = _mapping(body.get("view"))
    view_id = _text(view.get("id"))
    if not view_id:
        raise InputError("That choice arrived without its form; open the form again.")
    actions = body.get("actions")
    action = _mapping(actions[0] if isinstance(actions, list) and actions else None)
    chosen = _mapping(action.get("selected_option")).get("value")
    start = ids.WHEN_AT if chosen == ids.WHEN_AT else ids.WHEN_NOW
    return StartChoice(view_id, _text(view.get("hash")) or None, start)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    """A text input's value: only a string counts (Slack sends null for an empty field)."""
    return value if isinstance(value, str) else ""


def _timestamp(raw: Any) -> int | None:
    if not (isinstance(raw, int | str) and digits(str(raw), 12)):
        return None
    value = int(raw)
    return value if 0 < value < LATEST else None  # later is not a date-picker value


def parse_environment_action(
    body: Mapping[str, Any], known: Mapping[str, str]
) -> tuple[str, str, str]:
    """A click on a button that carries an environment: (action id, user id, environment)."""
    try:
        action = body["actions"][0]
        user_id = str(body["user"]["id"])
        raw = str(action["value"]).lower()
        action_id = str(action["action_id"])
    except (KeyError, IndexError, TypeError):
        raise InputError("That button press arrived incomplete; try again.") from None
    if raw not in known:
        raise InputError("That button does not name an environment.")
    return action_id, user_id, known[raw]
