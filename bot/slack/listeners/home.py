"""The App Home: publishing it when opened, and its own button (*New request*)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Respond

from bot.slack import ids
from bot.slack.after_ack import Later
from bot.slack.context import SlackDeps
from bot.slack.listeners.clicks import Answer, Click, register_clicks
from bot.slack.payloads import trigger_of


def register(app: App, deps: SlackDeps, later: Later) -> None:
    """Attach the ``app_home_opened`` listener and the tab's own buttons (``CLICKS``)."""
    register_clicks(app, deps, later, CLICKS, answer=answer_on_home(deps))

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            later.quietly(lambda: deps.home.opened(str(event["user"])))


def answer_on_home(deps: SlackDeps) -> Answer:
    """Answer a click through its own reply, or on the tab for a click on the tab (which
    has no response_url)."""

    def answer(body: dict[str, Any], respond: Respond) -> Respond:
        if body.get("response_url"):
            return respond
        return deps.home.teller(str((body.get("user") or {}).get("id", "")))

    return answer


def _new_request(deps: SlackDeps, body: dict[str, Any], _respond: Respond) -> None:
    deps.home.open_form(trigger_of(body))


CLICKS: dict[str, Click] = {
    ids.HOME_NEW_REQUEST: _new_request,
}
