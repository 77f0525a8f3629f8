"""The running bot: the parts bot.run.wiring builds, and starting and stopping them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.api.app import PREFIX as API_PREFIX
from bot.api.app import Api
from bot.config import Settings
from bot.jobs.scheduler import Scheduler
from bot.jobs.webhooks import WebhookSender
from bot.jobs.worker import Worker
from bot.ops.routes import Ops
from bot.services.read_ahead import ReadAhead
from bot.services.schedule_api import ScheduleApi
from bot.services.windows import WindowService
from bot.slack.after_ack import Later
from bot.slack.home import HomePublisher
from bot.slack.notifier import SlackNotifier


@dataclass
class Runtime:
    """The running parts, built once and passed in; nothing global."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    windows: WindowService
    worker: Worker
    scheduler: Scheduler
    home: HomePublisher
    notifier: SlackNotifier
    app: App
    clients: Mapping[str, ScheduleApi] = field(default_factory=dict)
    ops: Ops = field(kw_only=True)
    # The HTTP API for scripts under /api/v1 (bot.api).
    api: Api = field(kw_only=True)
    ahead: ReadAhead | None = field(default=None, kw_only=True)
    # Work listeners leave for after their acknowledgements (bot.slack.after_ack).
    later: Later = field(kw_only=True)
    # Delivers webhook events from the ledger (bot.jobs.webhooks).
    webhooks: WebhookSender = field(kw_only=True)

    def routes(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Every HTTP route but Slack's: the API under /api/v1, the operator's routes."""
        if str(environ.get("PATH_INFO", "")).startswith(API_PREFIX + "/"):
            return self.api(environ, start_response)
        return self.ops(environ, start_response)

    def start(self, *, scheduler: bool = True) -> None:
        """Start background work (tests drive the scheduler by hand)."""
        self.ops.feed.note_configuration()
        self.worker.start()
        self.home.start()
        if scheduler:
            self.scheduler.start()
        self.webhooks.start()
        # Pick up whatever a previous run left unfinished.
        self.worker.kick(self.worker.environments_in_play())

    def stop(self) -> None:
        """Stop background work and release connections."""
        self.later.close()  # cards waiting for a lull go to the listener pool now
        self.scheduler.stop()
        self.webhooks.stop()
        self.worker.stop()
        self.home.stop()
        if self.ahead is not None:
            self.ahead.close()
        for client in self.clients.values():
            close = getattr(client, "close", None)
            if close is not None:
                close()
        self.engine.dispose()
