"""The Bolt app: built from settings and services; nothing is created at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot.logs import log_context, new_request_id
from bot.slack import errors, workspace
from bot.slack.after_ack import Later, Lull
from bot.slack.context import SlackDeps
from bot.slack.listeners import actions, checklist, commands, home, series_actions, views

log = logging.getLogger(__name__)


class _QuietTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when a client is given; that is intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def create_app(
    deps: SlackDeps,
    *,
    client: WebClient,
    signing_secret: str,
    later: Later,
) -> App:
    """A Bolt app with every listener registered.

    Listeners run on the thread serving the request and acknowledge before anything slow,
    which they leave to ``later`` (see bot.slack.after_ack): Slack gets its answer as soon as
    the listener returns, with no polling for it. Every request tells ``later``'s lull when it
    arrives and when it is answered.
    """
    logging.getLogger("slack_bolt.App").addFilter(_QuietTokenNotice())
    app = _App(
        later.lull,
        process_before_response=True,
        listener_executor=later.executor,
        client=client,
        signing_secret=signing_secret,
        # HTTP requests reach Bolt only through bot.slack.gate, which checks their signatures
        # and hands Bolt the parsed body; Socket Mode has no signatures.
        request_verification_enabled=False,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    app.use(_log_arrival)
    errors.register(app)
    workspace.register(app, deps.settings.slack)
    commands.register(app, deps, later)
    actions.register(app, deps, later)
    home.register(app, deps, later)
    series_actions.register(app, deps, later)
    checklist.register(app, deps, later)
    views.register(app, deps, later)
    return app


class _App(App):
    """Bolt's app, handling each request (HTTP or Socket Mode) under a request id of its own.

    Bolt's middleware only flags ``next()`` and runs the listener after the whole chain, so
    the id is set around ``dispatch``; the listener executor carries it into its threads.
    """

    def __init__(self, lull: Lull, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lull = lull

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        self._lull.arrived()
        try:
            body = req.body if isinstance(req.body, dict) else {}
            kind, user = _who(body)
            with log_context(request_id=new_request_id(), slack=kind, user=user):
                return super().dispatch(req)
        finally:
            self._lull.answered()


def _who(body: dict[str, Any]) -> tuple[str, str | None]:
    """What kind of Slack request this is, and whose."""
    raw_event = body.get("event")
    event: dict[str, Any] = raw_event if isinstance(raw_event, dict) else {}
    user = body.get("user_id") or body.get("user") or event.get("user")
    if isinstance(user, dict):
        user = user.get("id")
    kind = "command" if body.get("command") else event.get("type") or body.get("type")
    return str(kind or "unknown"), str(user) if user else None


def _log_arrival(body: dict[str, Any], next: Callable[[], None]) -> None:
    """One line per verified Slack request (Bolt has checked the signature by now)."""
    kind, user = _who(body)
    log.info("Slack %s from %s: %s", kind, user or "-", _what(body))
    next()


def _what(body: dict[str, Any]) -> str:
    """A short, secret-free description of what a Slack request asks for."""
    if body.get("command"):
        words = str(body.get("text", "")).split()
        return f"{body['command']} {words[0] if words else ''}".strip()
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return str(actions[0].get("action_id", "?"))
    view = body.get("view")
    if isinstance(view, dict):
        return str(view.get("callback_id") or view.get("type") or "?")
    return str(body.get("type", "?"))
