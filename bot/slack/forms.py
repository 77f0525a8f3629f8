"""The modals: the request form, with the fields of a window, and Deny's reason. Pure
rendering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.services.views import WindowView
from bot.slack import ids
from bot.slack.button_values import WindowButton
from bot.slack.kit import section
from bot.slack.text import user

View = dict[str, Any]
# How long a denial's reason may be.
REASON_LIMIT = 500


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {**element, "action_id": ids.FIELD_ACTION},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def render_request_modal(
    labels: Mapping[str, str],
    start: str = ids.WHEN_NOW,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> View:
    """The form opened by a bare ``/sis-maint``, with the fields the chosen ``start`` needs;
    the environments may be chosen one by one or by ``groups``.

    As soon as an approver agrees, a duration is required (an end time needs a start);
    at a date and time, the start is required and then a duration or an end time.
    Choosing the other start sends an action that redraws the form (see bot.slack.listeners.views).
    """
    options = [
        {"text": _plain(f"{name} — {label}"[:75]), "value": name} for name, label in labels.items()
    ] + [
        {"text": _plain(f"{name} — group: {', '.join(members)}"[:75]), "value": name}
        for name, members in (groups or {}).items()
    ]
    when_options = [
        {"text": _plain("As soon as an approver agrees"), "value": ids.WHEN_NOW},
        {"text": _plain("At a date and time"), "value": ids.WHEN_AT},
    ]
    chosen = next((o for o in when_options if o["value"] == start), when_options[0])
    when = _input(
        ids.B_WHEN,
        "Start",
        {"type": "radio_buttons", "options": when_options, "initial_option": chosen},
    )
    when["dispatch_action"] = True
    envs = _input(
        ids.B_ENVS,
        "Environments",
        {
            "type": "multi_static_select",
            "options": options,
            "placeholder": _plain("Which Coursedog environments"),
        },
    )
    timing = _timing_at() if chosen["value"] == ids.WHEN_AT else _timing_now()
    return {
        "type": "modal",
        "callback_id": ids.REQUEST_VIEW,
        "title": _plain("SIS maintenance"),
        "submit": _plain("Request"),
        "close": _plain("Cancel"),
        "blocks": [envs, when, *timing, *_about()],
    }


def _duration(*, optional: bool, hint: str) -> dict[str, Any]:
    element = {"type": "plain_text_input", "placeholder": _plain("2h, 1h30m, 45m or 1d")}
    return _input(ids.B_LENGTH, "Duration", element, optional=optional, hint=hint)


def _timing_now() -> list[dict[str, Any]]:
    """A start as soon as approved: only a duration, counted from the approval."""
    return [_duration(optional=False, hint="Counted from the approval.")]


def _timing_at() -> list[dict[str, Any]]:
    """A start at a date and time: the start, then a duration or an end time."""
    return [
        _input(
            ids.B_START,
            "Start date and time",
            {"type": "datetimepicker"},
            hint="Shown in your Slack time zone.",
        ),
        _duration(optional=True, hint="Give a duration, or an end time below; one of the two."),
        _input(
            ids.B_END,
            "End date and time",
            {"type": "datetimepicker"},
            optional=True,
            hint="Or give a duration above.",
        ),
    ]


def _about() -> list[dict[str, Any]]:
    """What the window is for: free text, both optional."""
    return [
        _input(
            ids.B_REASON,
            "Reason",
            {"type": "plain_text_input", "multiline": True, "max_length": 500},
            optional=True,
        ),
        _input(
            ids.B_TICKET,
            "Ticket reference",
            {
                "type": "plain_text_input",
                "max_length": 200,
                "placeholder": _plain("e.g. CHG0012345"),
            },
            optional=True,
        ),
    ]


def render_deny_modal(view: WindowView) -> View:
    """Deny's modal: what is denied, and an optional reason that reaches the requester. The
    window rides in ``private_metadata``; submitting denies (bot.slack.listeners.views)."""
    envs = ", ".join(f"`{e}`" for e in view.environment_names)
    return {
        "type": "modal",
        "callback_id": ids.DENY_VIEW,
        "private_metadata": WindowButton(view.id).encode(),
        "title": _plain(f"Deny {view.number}"[:24]),
        "submit": _plain("Deny"),
        "close": _plain("Cancel"),
        "blocks": [
            section(
                f"Deny *{view.number}* on {envs}? Nothing is switched off, and "
                f"{user(view.requester_id)} is told in a direct message, with your reason "
                "if you give one."
            ),
            _input(
                ids.B_DENY_REASON,
                "Reason",
                {"type": "plain_text_input", "multiline": True, "max_length": REASON_LIMIT},
                optional=True,
                hint="Optional. The requester reads it.",
            ),
        ],
    }
