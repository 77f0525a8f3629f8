"""The Bolt app: built from settings and services; nothing is created at import time."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack import errors, workspace
from bot.slack.context import SlackDeps
from bot.slack.listeners import actions, commands, views


class _QuietTokenNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when a client is given; that is intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def create_app(
    deps: SlackDeps,
    *,
    client: WebClient,
    signing_secret: str,
    listener_executor: Executor | None = None,
) -> App:
    """A Bolt app with every listener registered."""
    logging.getLogger("slack_bolt.App").addFilter(_QuietTokenNotice())
    app = App(
        listener_executor=listener_executor,
        client=client,
        signing_secret=signing_secret,
        # HTTP requests reach Bolt only through bot.slack.gate, which checks their signatures
        # and hands Bolt the parsed body; Socket Mode has no signatures.
        request_verification_enabled=False,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    errors.register(app)
    workspace.register(app, deps.settings.slack)
    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    return app
