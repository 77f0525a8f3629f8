"""Assembles the running bot from settings: database, Coursedog clients, worker, Slack app."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.jobs import Jobs
from bot.merge_watch import MergeWatcher
from bot.scheduler import Scheduler
from bot.services.access import Access
from bot.services.reconciler import Reconciler, ScheduleApi
from bot.services.status import StatusService
from bot.services.timetable import WATCH_MERGE
from bot.services.windows import WindowService
from bot.slack.app import create_app
from bot.slack.context import SlackDeps
from bot.slack.groups import SlackGroups
from bot.slack.home import HomePublisher
from bot.slack.notifier import SlackNotifier
from bot.worker import Worker
from coursedog.client import CoursedogClient
from storage.db import DEFAULT_DATABASE_URL, make_engine, make_sessions

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def slack_client(token: str, api_url: str | None = None) -> WebClient:
    """A Web API client; ``api_url`` (SLACK_API_URL) points it at GovSlack or a stand-in."""
    base = (api_url or DEFAULT_SLACK_API_URL).rstrip("/") + "/"
    client = WebClient(token=token, base_url=base)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def coursedog_clients(settings: Settings, environ: Mapping[str, str]) -> dict[str, CoursedogClient]:
    """One client per environment, with credentials from the environment variables it names."""
    wire = settings.wire()
    clients = {}
    for name, env in settings.environments.items():
        email, password = env.credentials(name, environ)
        clients[name] = CoursedogClient(
            base_url=env.base_url,
            school=env.school,
            email=email,
            password=password.get_secret_value(),
            wire=wire,
        )
    return clients


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

    def start(self, *, scheduler: bool = True) -> None:
        """Start background work (tests drive the scheduler by hand)."""
        self.worker.start()
        self.home.start()
        if scheduler:
            self.scheduler.start()
        # Pick up whatever a previous run left unfinished.
        self.worker.kick(self.worker.environments_in_play())

    def stop(self) -> None:
        """Stop background work and release connections."""
        self.scheduler.stop()
        self.worker.stop()
        self.home.stop()
        for client in self.clients.values():
            close = getattr(client, "close", None)
            if close is not None:
                close()
        self.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    slack: WebClient,
    signing_secret: str,
    clients: Mapping[str, ScheduleApi],
    database_url: str | None = None,
    clock: Clock | None = None,
    owner: str | None = None,
    listener_executor: Executor | None = None,
) -> Runtime:
    """Wire everything together; the caller starts it."""
    clock = clock or SystemClock()
    engine = make_engine(database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    sessions = make_sessions(engine)
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    wake = _Wake()
    access = Access(settings, SlackGroups(slack))
    windows = WindowService(settings, sessions, clock, on_scheduled=wake, access=access)
    labels = {name: env.label for name, env in settings.environments.items()}
    notifier = SlackNotifier(
        slack,
        sessions,
        clock,
        windows,
        labels=labels,
        channel=settings.approvals_channel,
        nightly=settings.nightly_merge.span(),
    )
    reconciler = Reconciler(
        settings,
        sessions,
        clock,
        clients,
        owner=owner,
        lease_ttl=timedelta(seconds=settings.environment_lease_seconds),
    )
    worker = Worker(
        reconciler,
        notifier.publish,
        interval=settings.reconcile_interval_seconds,
        environments=settings.environments,
        watchdog_interval=settings.watchdog_interval_seconds,
    )
    jobs = Jobs(settings, clock, notifier, worker, access)
    watcher = MergeWatcher(settings, clock, notifier, windows, clients)
    scheduler = Scheduler(
        sessions,
        clock,
        {**jobs.handlers(), WATCH_MERGE: watcher.handle},
        owner=owner,
        poll_seconds=settings.scheduler_poll_seconds,
        lease=timedelta(seconds=settings.action_lease_seconds),
        on_give_up=jobs.gave_up,
    )
    wake.scheduler = scheduler
    status = StatusService(sessions, clients)
    home = HomePublisher(slack, status, clock, labels)
    notifier.on_change = home.refresh_viewers
    deps = SlackDeps(
        settings=settings,
        clock=clock,
        windows=windows,
        status=status,
        notifier=notifier,
        worker=worker,
        home=home,
    )
    app = create_app(
        deps, client=slack, signing_secret=signing_secret, listener_executor=listener_executor
    )
    return Runtime(
        settings, engine, sessions, windows, worker, scheduler, home, notifier, app, clients
    )


class _Wake:
    """Lets services wake the scheduler without knowing it (it is built after them)."""

    scheduler: Scheduler | None = None

    def __call__(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()
