"""Buttons registered from a table: action id -> what a click does once it is acknowledged."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.after_ack import Later
from bot.slack.context import SlackDeps

# What a click does once it is acknowledged: the app's dependencies, Slack's payload, and the
# reply to the click's message.
Click = Callable[[SlackDeps, dict[str, Any], Respond], None]
# Where a click's errors are told: the click's own reply, unless the table's module says else.
Answer = Callable[[dict[str, Any], Respond], Respond]


def _own_reply(_body: dict[str, Any], respond: Respond) -> Respond:
    return respond


def register_clicks(
    app: App,
    deps: SlackDeps,
    later: Later,
    clicks: Mapping[str, Click],
    *,
    answer: Answer = _own_reply,
) -> None:
    """One listener per action id of ``clicks``: it acknowledges at once and leaves the click
    to ``later`` (bot.slack.after_ack), which tells its errors through ``answer``."""

    def listener(click: Click) -> Callable[[Ack, dict[str, Any], Respond], None]:
        def on_click(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
            ack()
            later(answer(body, respond), partial(click, deps, body, respond))

        return on_click

    for action_id, click in clicks.items():
        app.action(action_id)(listener(click))
