"""Assembles the running bot from settings: database, Coursedog clients, worker, Slack app."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from pydantic import SecretStr
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.errors import ConfigError
from bot.jobs.mailer import Mailer, mailer_from_settings
from bot.jobs.merge_watch import MergeWatcher
from bot.jobs.notices import NoticeSender
from bot.jobs.scheduler import Scheduler
from bot.jobs.series import SeriesJob
from bot.jobs.windows import Jobs
from bot.jobs.worker import Worker
from bot.logs import CarryContext
from bot.loops import Loops
from bot.ops.feed import CalendarFeed
from bot.ops.health import Health
from bot.ops.instruments import MeteredCoursedog, SlackErrorCounter
from bot.ops.metrics import Metrics
from bot.ops.routes import Ops
from bot.services.access import Access
from bot.services.blackouts import BlackoutService
from bot.services.contracts import standings
from bot.services.drivers import Drivers
from bot.services.notice_sending import NoticeSending
from bot.services.notices import NOTIFY, NoticeService
from bot.services.occurrences import MATERIALISE
from bot.services.outbox import Outbox
from bot.services.presses import AssistedService
from bot.services.read_ahead import ReadAhead
from bot.services.reconciler import Reconciler
from bot.services.schedule_api import ScheduleApi
from bot.services.series import SeriesService
from bot.services.status import StatusService
from bot.services.timetable import WATCH_MERGE
from bot.services.windows import WindowService
from bot.slack.after_ack import Later, Lull
from bot.slack.announce import post_owed_cards
from bot.slack.app import create_app
from bot.slack.context import SlackDeps
from bot.slack.groups import SlackGroups
from bot.slack.home import HomePublisher
from bot.slack.notifier import SlackNotifier
from bot.slack.people import SlackPeople
from bot.slack.series_notifier import SeriesNotifier
from coursedog.client import CoursedogClient
from coursedog.contract import WriteContract
from coursedog.session import SessionPool
from coursedog.wire import merge_settings_link
from storage import replay
from storage.db import DEFAULT_DATABASE_URL, make_engine, make_sessions

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def slack_client(token: str, api_url: str | None = None) -> WebClient:
    """A Web API client; ``api_url`` (SLACK_API_URL) points it at GovSlack or a stand-in."""
    base = (api_url or DEFAULT_SLACK_API_URL).rstrip("/") + "/"
    client = WebClient(token=token, base_url=base)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def coursedog_clients(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    pool: SessionPool | None = None,
    only: Collection[str] | None = None,
    contracts: Mapping[str, WriteContract] | None = None,
) -> dict[str, CoursedogClient]:
    """One client per environment with an API user (of those in ``only``, when given), with
    credentials from the variables it names, writing as the environment's stored contract says
    (without one, the assumed way).

    Environments on one host with the same user share one session: one login serves them all.
    """
    contracts = contracts or {}
    pool = pool or SessionPool()
    clients: dict[str, CoursedogClient] = {}
    try:
        for name, env in settings.environments.items():
            if not env.reads or (only is not None and name not in only):
                continue  # an assisted environment without an API user: people confirm each step
            email, password = env.credentials(name, environ)
            wire = settings.wire(name)
            try:
                session = pool.session(
                    base_url=env.base_url,
                    email=email,
                    password=password.get_secret_value(),
                    wire=wire,
                )
            except ValueError as exc:
                raise ConfigError(f"environments.{name}: {exc}") from None
            clients[name] = CoursedogClient(
                school=env.school, session=session, wire=wire, contract=contracts.get(name)
            )
    except BaseException:
        for client in clients.values():
            client.close()
        raise
    return clients


def merge_settings_links(settings: Settings) -> dict[str, str]:
    """Environment -> its Merge Settings page in the Coursedog web app."""
    return {
        name: merge_settings_link(urlsplit(env.base_url).netloc, env.school, settings.wire(name))
        for name, env in settings.environments.items()
    }


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
    ahead: ReadAhead | None = field(default=None, kw_only=True)
    # Work listeners leave for after their acknowledgements (bot.slack.after_ack).
    later: Later = field(kw_only=True)

    def start(self, *, scheduler: bool = True) -> None:
        """Start background work (tests drive the scheduler by hand)."""
        self.ops.feed.note_configuration()
        self.worker.start()
        self.home.start()
        if scheduler:
            self.scheduler.start()
        # Pick up whatever a previous run left unfinished.
        self.worker.kick(self.worker.environments_in_play())

    def stop(self) -> None:
        """Stop background work and release connections."""
        self.later.close()  # cards waiting for a lull go to the listener pool now
        self.scheduler.stop()
        self.worker.stop()
        self.home.stop()
        if self.ahead is not None:
            self.ahead.close()
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
    mailer: Mailer | None = None,
    calendar_token: SecretStr | None = None,
    lull: Lull | None = None,
) -> Runtime:
    """Wire everything together; the caller starts it.

    ``mailer`` defaults to the SMTP server of ``[coursedog_notice]`` (None: notices are drafts);
    ``lull`` to bot.slack.after_ack's (when approval cards wait for a lull in requests).
    """
    if mailer is None:
        mailer = mailer_from_settings(settings.coursedog_notice, os.environ)
    clock = clock or SystemClock()
    engine = make_engine(database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    sessions = make_sessions(engine)
    loops = Loops()  # each loop's heartbeat, read by /healthz and /metrics
    metrics = Metrics(sessions, clock, late_after=_late_after(settings), loops=loops)
    # First, so it sees every attempt before a retry handler takes over.
    slack.retry_handlers.insert(0, SlackErrorCounter(metrics))
    clients = {name: MeteredCoursedog(api, name, metrics) for name, api in clients.items()}
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    wake = _Wake()
    access = Access(settings, SlackGroups(slack))
    ahead = ReadAhead(clients)
    windows = WindowService(
        settings, sessions, clock, on_scheduled=wake, access=access, on_switch=ahead.start
    )
    labels = {name: env.label for name, env in settings.environments.items()}
    links = merge_settings_links(settings)
    # Who switches each environment, from the contracts stored when the bot starts.
    drivers = Drivers(settings, standings(sessions, settings.environments))
    outbox = Outbox(sessions, clock)
    assisted = AssistedService(settings, sessions, clock, clients, access, drivers=drivers)
    notifier = SlackNotifier(
        slack,
        outbox,
        clock,
        windows,
        labels=labels,
        channel=settings.approvals_channel,
        checklists=assisted,
        nightly=settings.nightly_merge.span(),
        merge_settings=links,
        drivers=drivers.descriptions(),
    )
    reconciler = Reconciler(
        settings,
        sessions,
        clock,
        clients,
        owner=owner,
        lease_ttl=timedelta(seconds=settings.environment_lease_seconds),
        ahead=ahead,
        drivers=drivers,
    )
    worker = Worker(
        reconciler,
        notifier.publish,
        owed=outbox.owed_reports,
        interval=settings.reconcile_interval_seconds,
        environments=settings.environments,
        watchdog_interval=settings.watchdog_interval_seconds,
    )
    jobs = Jobs(settings, clock, notifier, worker, windows, drivers=drivers)
    series = SeriesService(settings, sessions, clock, access, on_scheduled=wake)
    series_notices = SeriesNotifier(
        slack,
        notifier,
        windows,
        outbox,
        series,
        labels=labels,
        channel=settings.approvals_channel,
        lookahead=settings.series.lookahead,
    )
    watcher = MergeWatcher(settings, clock, notifier, windows, clients)
    sender = NoticeSender(
        settings,
        clock,
        notifier,
        windows,
        NoticeSending(settings, sessions, clock),
        mailer=mailer,
        name_of=SlackPeople(slack).name,
        on_settled=worker.kick,
    )
    scheduler = Scheduler(
        sessions,
        clock,
        {
            **jobs.handlers(),
            WATCH_MERGE: watcher.handle,
            NOTIFY: sender.handle,
            MATERIALISE: SeriesJob(settings, clock, series_notices).handle,
        },
        owner=owner,
        poll_seconds=settings.scheduler_poll_seconds,
        threads=settings.scheduler_threads,
        lease=timedelta(seconds=settings.action_lease_seconds),
        on_give_up=jobs.gave_up,
    )
    wake.scheduler = scheduler
    status = StatusService(sessions, clients)
    home = HomePublisher(slack, status, clock, labels, drivers=drivers.descriptions())
    notifier.on_change = home.refresh_viewers
    deps = SlackDeps(
        settings=settings,
        clock=clock,
        windows=windows,
        status=status,
        notifier=notifier,
        worker=worker,
        home=home,
        notices=NoticeService(sessions, access, clock.now, on_settled=worker.kick),
        outbox=outbox,
        assisted=assisted,
        merge_settings=links,
        series=series,
        blackouts=BlackoutService(settings, sessions, clock, access),
        series_notices=series_notices,
    )
    worker.chores = partial(_chores, deps, sessions)
    # Work after the acknowledgement keeps the request id of the request it serves.
    pool = CarryContext(listener_executor or ThreadPoolExecutor(max_workers=5))
    later = Later(pool, lull or Lull())
    app = create_app(deps, client=slack, signing_secret=signing_secret, later=later)
    loops.add(*worker.heartbeats, *scheduler.heartbeats, *home.heartbeats, *later.heartbeats)
    health = Health(sessions, loops=loops, stale_floor=settings.loop_stale_seconds)
    ops = Ops(health, metrics, CalendarFeed(settings, sessions, clock, calendar_token))
    return Runtime(
        settings,
        engine,
        sessions,
        windows,
        worker,
        scheduler,
        home,
        notifier,
        app,
        clients,
        ops=ops,
        ahead=ahead,
        later=later,
    )


def _chores(deps: SlackDeps, sessions: sessionmaker[Session]) -> int:
    """On every periodic tick: post the approval cards owed (returns how many), and forget
    the replay keys no request can use any more."""
    try:
        return post_owed_cards(deps)
    finally:
        with sessions.begin() as session:
            # Wall time, not the ledger's clock: keys expire with Slack's signature timestamps.
            replay.purge(session, datetime.now(UTC))


def _late_after(settings: Settings) -> timedelta:
    """How long past its time a due action counts as late: a few polls, at least a minute."""
    return max(timedelta(minutes=1), timedelta(seconds=3 * settings.scheduler_poll_seconds))


class _Wake:
    """Lets services wake the scheduler without knowing it (it is built after them)."""

    scheduler: Scheduler | None = None

    def __call__(self, due_at: datetime | None) -> None:
        if self.scheduler is not None and due_at is not None:
            self.scheduler.wake(due_at)
