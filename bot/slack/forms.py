"""The request form: a modal with the fields of a window. Pure rendering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.slack import ids

View = dict[str, Any]


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


def render_request_modal(labels: Mapping[str, str]) -> View:
    """The form opened by a bare ``/sis-maint``."""
    options = [
        {"text": _plain(f"{name} — {label}"[:75]), "value": name} for name, label in labels.items()
    ]
    when_options = [
        {"text": _plain("As soon as an approver agrees"), "value": ids.WHEN_NOW},
        {"text": _plain("At a date and time"), "value": ids.WHEN_AT},
    ]
    return {
        "type": "modal",
        "callback_id": ids.REQUEST_VIEW,
        "title": _plain("SIS maintenance"),
        "submit": _plain("Request"),
        "close": _plain("Cancel"),
        "blocks": [
            _input(
                ids.B_ENVS,
                "Environments",
                {
                    "type": "multi_static_select",
                    "options": options,
                    "placeholder": _plain("Which Coursedog environments"),
                },
            ),
            _input(
                ids.B_WHEN,
                "Start",
                {
                    "type": "radio_buttons",
                    "options": when_options,
                    "initial_option": when_options[0],
                },
            ),
            _input(
                ids.B_START,
                "Start date and time",
                {"type": "datetimepicker"},
                optional=True,
                hint="Only for a start at a date and time; shown in your Slack time zone.",
            ),
            _input(
                ids.B_LENGTH,
                "Duration",
                {"type": "plain_text_input", "placeholder": _plain("2h, 1h30m, 45m or 1d")},
                optional=True,
                hint="Give a duration, or an end time below.",
            ),
            _input(ids.B_END, "End date and time", {"type": "datetimepicker"}, optional=True),
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
        ],
    }
