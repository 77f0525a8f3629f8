"""Assembles the running bot (bot.run.runtime.Runtime) from settings: database, Coursedog
clients, worker, Slack app.

Each builder gets what it needs as arguments and returns what it built: first the core (the
ledger, the metered clients, the loops), then what the services share, then the rest on that
base. The order breaks every cycle: services ring the scheduler's ``Doorbell`` (made first,
before either), the App Home is built before the notifier that refreshes it, and the worker's
chores need only the notifier and the services, not the listeners' dependencies.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.api.app import Api
from bot.api.tokens import Tokens
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.jobs.fan_out import FanOut
from bot.jobs.mailer import Mailer, mailer_from_settings
from bot.jobs.merge_watch import MergeWatcher
from bot.jobs.notices import NoticeSender
from bot.jobs.running_merge import RunningMergeWatcher
from bot.jobs.scheduler import Doorbell, Scheduler
from bot.jobs.series import SeriesJob
from bot.jobs.webhooks import Endpoint, WebhookSender
from bot.jobs.windows import Jobs
from bot.jobs.worker import Worker
from bot.logs import CarryContext
from bot.loops import Loops
from bot.ops.feed import CalendarFeed
from bot.ops.health import Health
from bot.ops.instruments import MeteredCoursedog, SlackErrorCounter
from bot.ops.metrics import Metrics
from bot.ops.routes import Ops
from bot.run.clients import merge_settings_links
from bot.run.runtime import Runtime
from bot.services import webhook_events
from bot.services.access import Access
from bot.services.blackouts import BlackoutService
from bot.services.contracts import standings
from bot.services.drivers import Drivers
from bot.services.home_board import HomeBoards
from bot.services.kept_answers import KeptAnswers
from bot.services.notice_drafts import NoticeService
from bot.services.notice_sending import NoticeSending
from bot.services.notices import NOTIFY
from bot.services.occurrences import MATERIALISE
from bot.services.outbox import Outbox
from bot.services.presses import AssistedService
from bot.services.read_ahead import ReadAhead
from bot.services.reconciler import Reconciler
from bot.services.running_merges import RunningMerges
from bot.services.schedule_api import ScheduleApi
from bot.services.series import SeriesService
from bot.services.start_gates import StartGates
from bot.services.status import StatusService
from bot.services.timetable import WATCH_MERGE, WATCH_RUNNING_MERGE
from bot.services.webhook_ledger import WebhookLedger
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
from storage import replay
from storage.db import DEFAULT_DATABASE_URL, make_engine, make_sessions

# How much longer than the merge history's own read a switch-off waits for the thread's post.
GATE_SLACK_SECONDS = 2.0


def build_runtime(
    settings: Settings,
    *,
    slack: WebClient,
    signing_secret: str,
    clients: Mapping[str, ScheduleApi],
    database_url: str = DEFAULT_DATABASE_URL,
    clock: Clock | None = None,
    owner: str | None = None,
    listener_executor: Executor | None = None,
    mailer: Mailer | None = None,
    variables: Mapping[str, str] | None = None,
    calendar_token: SecretStr | None = None,
    lull: Lull | None = None,
) -> Runtime:
    """Wire everything together; the caller starts it.

    ``mailer`` defaults to the SMTP server of ``[coursedog_notice]`` with the login from
    ``variables`` (bot.process_env; None: notices are drafts); ``lull`` to
    bot.slack.after_ack's (when approval cards wait for a lull in requests).
    """
    core = _core(settings, slack, clients=clients, url=database_url, clock=clock, owner=owner)
    base = _base(core)
    if mailer is None:
        mailer = mailer_from_settings(settings.coursedog_notice, variables or {})
    # Work after the acknowledgement keeps the request id of the request it serves.
    later = Later(CarryContext(listener_executor or ThreadPoolExecutor(5)), lull or Lull())
    endpoints = {
        hook.name: Endpoint(hook.url, hook.secret(variables or {})) for hook in settings.webhooks
    }
    # The API's token hashes, from the variables the configuration names (a ConfigError names
    # one that is unset or no hash).
    tokens = Tokens(settings.api.tokens, settings.api.hashes(variables or {}))
    return _assemble(
        base, mailer, later, signing_secret, calendar_token, tokens=tokens, endpoints=endpoints
    )


def _assemble(
    base: _Base,
    mailer: Mailer | None,
    later: Later,
    signing_secret: str,
    calendar_token: SecretStr | None,
    *,
    tokens: Tokens,
    endpoints: Mapping[str, Endpoint],
) -> Runtime:
    """Everything built on ``base``, in the order the module docstring gives."""
    services = _services(base)
    home = HomePublisher(
        base.slack,
        _boards(base, services),
        base.labels,
        drivers=base.drivers.descriptions(),
        groups=base.settings.environment_names().groups,
        meter=base.metrics,
    )
    notifier = _notifier(base, services, on_change=home.refresh_viewers)
    worker = _worker(base, notifier, chores=partial(_chores, base, notifier, services.windows))
    jobs = _jobs(base, services, notifier, worker, mailer)
    deps = _deps(base, services, notifier, worker, home=home, series_notices=jobs.series_notices)
    app = create_app(deps, client=base.slack, signing_secret=signing_secret, later=later)
    base.loops.add(*worker.heartbeats, *jobs.scheduler.heartbeats, *home.heartbeats)
    base.loops.add(*later.heartbeats)
    webhooks = _webhooks(base, notifier, endpoints)
    base.loops.add(*webhooks.heartbeats)
    parts = (services.windows, worker, jobs.scheduler, home, notifier, app, base.clients)
    ops = _ops(base, calendar_token)
    return Runtime(
        base.settings,
        base.engine,
        base.sessions,
        *parts,
        ops=ops,
        api=Api(deps, tokens, KeptAnswers(base.sessions)),
        ahead=base.ahead,
        later=later,
        webhooks=webhooks,
    )


@dataclass(frozen=True)
class _Core:
    """The settings, the clients, the ledger and the process's own bookkeeping."""

    settings: Settings
    slack: WebClient
    clock: Clock
    owner: str
    engine: Engine
    sessions: sessionmaker[Session]
    loops: Loops  # each loop's heartbeat, read by /healthz and /metrics
    metrics: Metrics
    clients: Mapping[str, ScheduleApi]  # metered


@dataclass(frozen=True)
class _Base(_Core):
    """What every other part is built on: the core, and what the services share."""

    access: Access
    drivers: Drivers
    outbox: Outbox
    ahead: ReadAhead
    gates: StartGates
    doorbell: Doorbell
    labels: Mapping[str, str]
    links: Mapping[str, str]
    people: SlackPeople


def _core(
    settings: Settings,
    slack: WebClient,
    *,
    clients: Mapping[str, ScheduleApi],
    url: str,
    clock: Clock | None,
    owner: str | None,
) -> _Core:
    clock = clock or SystemClock()
    engine = make_engine(url)
    sessions = make_sessions(engine, webhook_events.session_info(settings.webhooks))
    loops = Loops()
    metrics = Metrics(sessions, clock, late_after=_late_after(settings), loops=loops)
    # First, so it sees every attempt before a retry handler takes over.
    slack.retry_handlers.insert(0, SlackErrorCounter(metrics))
    metered = {name: MeteredCoursedog(api, name, metrics) for name, api in clients.items()}
    owner = owner or _new_owner()
    return _Core(settings, slack, clock, owner, engine, sessions, loops, metrics, metered)


def _base(core: _Core) -> _Base:
    settings, sessions = core.settings, core.sessions
    return _Base(
        **vars(core),
        access=Access(settings, SlackGroups(core.slack)),
        # Who switches each environment, from the contracts stored when the bot starts.
        drivers=Drivers(settings, standings(sessions, settings.environments)),
        outbox=Outbox(sessions, core.clock),
        ahead=ReadAhead(core.clients),
        # A switch-off waits here (bounded) for the thread to say what merge runs.
        gates=StartGates(settings.merge_watch.start_read_seconds + GATE_SLACK_SECONDS),
        doorbell=Doorbell(),
        labels={name: env.label for name, env in settings.environments.items()},
        links=merge_settings_links(settings),
        people=SlackPeople(core.slack),
    )


@dataclass(frozen=True)
class _Services:
    windows: WindowService
    series: SeriesService
    assisted: AssistedService
    status: StatusService
    blackouts: BlackoutService
    running_merges: RunningMerges


def _services(base: _Base) -> _Services:
    settings, sessions, clock = base.settings, base.sessions, base.clock
    return _Services(
        windows=WindowService(
            settings,
            sessions,
            clock,
            on_scheduled=base.doorbell.added,
            access=base.access,
            on_switch=base.ahead.start,
        ),
        series=SeriesService(
            settings, sessions, clock, base.access, on_scheduled=base.doorbell.added
        ),
        assisted=AssistedService(
            settings, sessions, clock, base.clients, base.access, drivers=base.drivers
        ),
        status=StatusService(sessions, base.clients),
        blackouts=BlackoutService(settings, sessions, clock, base.access),
        running_merges=RunningMerges(settings, sessions, clock, base.clients, base.gates),
    )


def _boards(base: _Base, services: _Services) -> HomeBoards:
    """What the App Home shows, read once per refresh for every viewer."""
    return HomeBoards(
        base.sessions,
        base.clock,
        access=base.access,
        status=services.status,
        series=services.series,
        blackouts=services.blackouts,
        environments=list(base.settings.environments),
    )


def _notifier(base: _Base, services: _Services, *, on_change: Callable[[], None]) -> SlackNotifier:
    return SlackNotifier(
        base.slack,
        base.outbox,
        base.clock,
        services.windows,
        labels=base.labels,
        channel=base.settings.approvals_channel,
        checklists=services.assisted,
        nightly=base.settings.nightly_merge.span(),
        merge_settings=base.links,
        drivers=base.drivers.descriptions(),
        on_change=on_change,
        people=base.people,
    )


def _worker(base: _Base, notifier: SlackNotifier, *, chores: Callable[[], object]) -> Worker:
    settings = base.settings
    reconciler = Reconciler(
        settings,
        base.sessions,
        base.clock,
        base.clients,
        owner=base.owner,
        lease_ttl=timedelta(seconds=settings.environment_lease_seconds),
        ahead=base.ahead,
        drivers=base.drivers,
        gates=base.gates,
    )
    return Worker(
        reconciler,
        notifier.publish,
        owed=base.outbox.owed_reports,
        interval=settings.reconcile_interval_seconds,
        environments=settings.environments,
        watchdog_interval=settings.watchdog_interval_seconds,
        chores=chores,
        fan_out=FanOut(settings.hosts(), settings.switches_per_host),
    )


@dataclass(frozen=True)
class _Jobs:
    scheduler: Scheduler
    series_notices: SeriesNotifier


def _jobs(
    base: _Base, services: _Services, notifier: SlackNotifier, worker: Worker, mailer: Mailer | None
) -> _Jobs:
    """The scheduler, with a handler for every kind of due action."""
    settings, clock, windows = base.settings, base.clock, services.windows
    jobs = Jobs(
        settings,
        clock,
        notifier,
        worker,
        windows,
        drivers=base.drivers,
        running_merges=services.running_merges,
    )
    series_notices = _series_notices(base, services, notifier)
    handlers = {
        **jobs.handlers(),
        WATCH_MERGE: MergeWatcher(settings, clock, notifier, windows, base.clients).handle,
        WATCH_RUNNING_MERGE: RunningMergeWatcher(
            settings, clock, notifier, windows, base.clients
        ).handle,
        NOTIFY: _notice_sender(base, windows, notifier, worker, mailer).handle,
        MATERIALISE: SeriesJob(settings, clock, series_notices).handle,
    }
    scheduler = Scheduler(
        base.sessions,
        clock,
        handlers,
        owner=base.owner,
        poll_seconds=settings.scheduler_poll_seconds,
        threads=settings.scheduler_threads,
        lease=timedelta(seconds=settings.action_lease_seconds),
        on_give_up=jobs.gave_up,
        doorbell=base.doorbell,
    )
    return _Jobs(scheduler, series_notices)


def _notice_sender(
    base: _Base,
    windows: WindowService,
    notifier: SlackNotifier,
    worker: Worker,
    mailer: Mailer | None,
) -> NoticeSender:
    settings, clock = base.settings, base.clock
    return NoticeSender(
        settings,
        clock,
        notifier,
        windows,
        NoticeSending(settings, base.sessions, clock),
        mailer=mailer,
        name_of=base.people.name,
        on_settled=worker.kick,
    )


def _series_notices(base: _Base, services: _Services, notifier: SlackNotifier) -> SeriesNotifier:
    return SeriesNotifier(
        base.slack,
        notifier,
        services.windows,
        base.outbox,
        services.series,
        labels=base.labels,
        channel=base.settings.approvals_channel,
        lookahead=base.settings.series.lookahead,
    )


def _deps(
    base: _Base,
    services: _Services,
    notifier: SlackNotifier,
    worker: Worker,
    *,
    home: HomePublisher,
    series_notices: SeriesNotifier,
) -> SlackDeps:
    """What the listeners are handed."""
    settings, sessions, clock = base.settings, base.sessions, base.clock
    return SlackDeps(
        settings=settings,
        clock=clock,
        windows=services.windows,
        status=services.status,
        notifier=notifier,
        worker=worker,
        home=home,
        notices=NoticeService(sessions, base.access, clock.now, on_settled=worker.kick),
        outbox=base.outbox,
        assisted=services.assisted,
        merge_settings=base.links,
        series=services.series,
        blackouts=services.blackouts,
        series_notices=series_notices,
        running_merges=services.running_merges,
    )


def _webhooks(
    base: _Base, notifier: SlackNotifier, endpoints: Mapping[str, Endpoint]
) -> WebhookSender:
    """The webhook sender; with no endpoint configured it only marks events as seen."""
    settings = base.settings
    delivery = settings.webhook_delivery
    ledger = WebhookLedger(base.sessions, base.clock, settings.webhooks, delivery)

    def tell(key: str, text: str) -> bool:
        notifier.post_channel(key, text)
        return base.outbox.is_posted(key)

    interval = delivery.poll_seconds if endpoints else settings.reconcile_interval_seconds
    return WebhookSender(
        ledger, endpoints, tell, interval=interval, timeout=delivery.timeout_seconds
    )


def _ops(base: _Base, calendar_token: SecretStr | None) -> Ops:
    """/healthz, /metrics and the calendar feed."""
    settings, sessions = base.settings, base.sessions
    health = Health(sessions, loops=base.loops, stale_floor=settings.loop_stale_seconds)
    feed = CalendarFeed(settings, sessions, base.clock, calendar_token)
    return Ops(health, base.metrics, feed)


def _chores(base: _Base, notifier: SlackNotifier, windows: WindowService) -> int:
    """On every periodic tick: post the approval cards owed (returns how many), send the
    news requesters are owed, and forget the replay keys no request can use any more."""
    try:
        posted = post_owed_cards(base.outbox, notifier, windows, base.settings.approvals_channel)
        notifier.tell_requesters()
        return posted
    finally:
        with base.sessions.begin() as session:
            # Wall time, not the ledger's clock: keys expire with Slack's signature timestamps.
            replay.purge(session, datetime.now(UTC))


def _new_owner() -> str:
    """Who holds this process's leases: its host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _late_after(settings: Settings) -> timedelta:
    """How long past its time a due action counts as late: a few polls, at least a minute."""
    return max(timedelta(minutes=1), timedelta(seconds=3 * settings.scheduler_poll_seconds))
