"""The scheduler: each due action takes effect once, with leases, on several replicas."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.clock import Clock, SystemClock
from bot.config import parse_settings
from bot.domain.due_payloads import Nag, write
from bot.jobs.scheduler import MAX_ATTEMPTS, Lease, LeaseLost, Scheduler, in_lanes
from bot.run.clients import slack_client
from bot.sandbox.slack_api import SlackStandIn
from bot.services.access import Access, NoGroups
from bot.services.drivers import Drivers
from bot.services.outbox import Outbox
from bot.services.presses import AssistedService
from bot.services.windows import WindowService
from bot.slack.notifier import SlackNotifier
from storage import audit, due
from storage.due import ClaimedAction
from storage.models import AuditEvent, DueAction
from storage.states import DueStatus
from tests.harness import ManualClock, settings_document

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def insert_actions(sessions, count: int, due_at: datetime, kind: str = "probe") -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        for n in range(count):
            due.schedule_action(s, kind=kind, due_at=due_at, dedup_key=f"{kind}:{n}", now=T0)


def notifier_for(client: WebClient, sessions, clock: Clock) -> SlackNotifier:  # type: ignore[no-untyped-def]
    """A notifier on the approvals channel of a one-environment configuration."""
    settings = parse_settings(settings_document("http://127.0.0.1:9"))
    access = Access(settings, NoGroups())
    checklists = AssistedService(
        settings, sessions, clock, {}, access, drivers=Drivers(settings, {})
    )
    return SlackNotifier(
        client,
        Outbox(sessions, clock),
        clock,
        WindowService(settings, sessions, clock, access=access),
        labels={},
        channel="C0APPROVALS",
        checklists=checklists,
    )


def recording_handler(sessions, seen: Counter[str]):  # type: ignore[no-untyped-def]
    lock = threading.Lock()

    def handle(lease: Lease) -> None:
        with lease.transaction() as s:
            audit.add(s, at=T0, actor="probe", action="ran", detail=lease.action.dedup_key)
        with lock:
            seen[lease.action.dedup_key] += 1

    return handle


def test_duplicate_inserts_create_one_action(sessions) -> None:  # type: ignore[no-untyped-def]
    insert_actions(sessions, 3, T0)
    insert_actions(sessions, 3, T0)
    with sessions.begin() as s:
        assert len(s.scalars(select(DueAction)).all()) == 3


@pytest.mark.parametrize("threads", [1, 4])
def test_three_schedulers_run_500_actions_exactly_once(sessions, threads: int) -> None:  # type: ignore[no-untyped-def]
    insert_actions(sessions, 500, T0)
    clock = ManualClock(T0 + timedelta(seconds=1))
    seen: Counter[str] = Counter()
    record = recording_handler(sessions, seen)
    slack = SlackStandIn()
    notifier = notifier_for(slack_client(slack.token, slack.start()), sessions, clock)

    def handler(lease: Lease) -> None:
        record(lease)
        # Each action posts its notice (as reminders do): exactly one message per action.
        notifier.post_once(lease.action.dedup_key, "C0APPROVALS", f"notice {lease.action.id}")

    schedulers = [
        Scheduler(
            sessions, clock, {"probe": handler}, owner=f"replica-{n}", batch=20, threads=threads
        )
        for n in range(3)
    ]
    start = threading.Barrier(3)
    counts: list[int] = []

    def run(scheduler: Scheduler) -> None:
        start.wait()
        counts.append(scheduler.run_due())

    threads = [threading.Thread(target=run, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 500
    assert len(seen) == 500 and set(seen.values()) == {1}
    with sessions.begin() as s:
        details = s.scalars(select(AuditEvent.detail)).all()
        assert len(details) == 500 and len(set(details)) == 500
        statuses = set(s.scalars(select(DueAction.status)).all())
        assert statuses == {"done"}
    posted = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
    slack.stop()
    assert len(posted) == 500 and len(set(posted)) == 500


def test_lanes_run_side_by_side_and_each_lane_in_due_order(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        for environment in ("prod", "test"):
            for n in range(3):
                due.schedule_action(
                    s,
                    kind="probe",
                    due_at=T0 + timedelta(seconds=n),
                    dedup_key=f"{environment}:{n}",
                    now=T0,
                    environment=environment,
                )
    # Each lane's first action waits for the other's: only lanes running at once get past it.
    both_started = threading.Barrier(2, timeout=5)
    lock = threading.Lock()
    running: Counter[str] = Counter()
    overlaps: list[str] = []
    order: dict[str, list[str]] = {"prod": [], "test": []}

    def handle(lease: Lease) -> None:
        environment = lease.action.environment or ""
        with lock:
            running[environment] += 1
            if running[environment] > 1:
                overlaps.append(lease.action.dedup_key)
        if lease.action.dedup_key.endswith(":0"):
            both_started.wait()
        time.sleep(0.01)
        with lock:
            order[environment].append(lease.action.dedup_key)
            running[environment] -= 1

    clock = ManualClock(T0 + timedelta(minutes=1))
    scheduler = Scheduler(sessions, clock, {"probe": handle}, owner="one", threads=4)
    try:
        assert scheduler.run_due() == 6
    finally:
        scheduler.stop()
    assert order == {"prod": ["prod:0", "prod:1", "prod:2"], "test": ["test:0", "test:1", "test:2"]}
    assert overlaps == []
    with sessions.begin() as s:
        assert set(s.scalars(select(DueAction.status)).all()) == {"done"}


def test_stopping_mid_batch_finishes_running_lanes_and_leaves_the_rest_to_their_leases(
    sessions, caplog
) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        for environment in ("env-a", "env-b", "env-c"):
            due.schedule_action(
                s, kind="probe", due_at=T0, dedup_key=environment, now=T0, environment=environment
            )
    both_running = threading.Barrier(2, timeout=10)  # both threads busy: env-c's lane queues
    stopped = threading.Event()
    ran: list[str] = []

    def handle(lease: Lease) -> None:
        both_running.wait()
        if lease.action.dedup_key == "env-a":
            scheduler.stop()  # as a shutdown would, while env-b's lane is still running
            stopped.set()
        assert stopped.wait(10)
        ran.append(lease.action.dedup_key)

    clock = ManualClock(T0 + timedelta(minutes=1))
    scheduler = Scheduler(
        sessions, clock, {"probe": handle}, owner="one", threads=2, lease=timedelta(seconds=30)
    )
    assert scheduler.run_due() == 2
    assert sorted(ran) == ["env-a", "env-b"]
    with sessions.begin() as s:
        status = dict(s.execute(select(DueAction.dedup_key, DueAction.status)).all())
    assert status == {"env-a": "done", "env-b": "done", "env-c": "running"}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]

    # Another process takes the dropped action over once its lease has run out.
    clock.advance(timedelta(minutes=1))
    other = Scheduler(sessions, clock, {"probe": lambda lease: ran.append("again")}, owner="two")
    assert other.run_due() == 1
    assert ran[-1] == "again"
    with sessions.begin() as s:
        assert set(s.scalars(select(DueAction.status)).all()) == {"done"}


def test_a_window_an_environment_or_else_a_kind_makes_a_lane() -> None:
    def action(n: int, kind: str, window: int | None, environment: str | None) -> ClaimedAction:
        return ClaimedAction(n, kind, window, environment, T0, 1, 1, f"{kind}:{n}")

    claimed = [
        action(1, "remind_end", 7, None),
        action(2, "materialise", None, None),
        action(3, "watch_merge", 8, "prod"),
        action(4, "end", 7, None),
        action(5, "probe", None, "prod"),
        action(6, "materialise", None, None),
        action(7, "watch_merge", 8, "prod"),
    ]
    assert [[a.id for a in lane] for lane in in_lanes(claimed)] == [[1, 4], [2, 6], [3, 7], [5]]


def test_a_process_paused_past_its_lease_changes_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    insert_actions(sessions, 1, T0)
    clock = ManualClock(T0)
    late = Scheduler(sessions, clock, {}, owner="paused", lease=timedelta(seconds=30))
    with sessions.begin() as s:
        (claimed,) = due.claim_due(
            s, owner="paused", now=clock.now(), lease=timedelta(seconds=30), limit=5
        )
    clock.advance(timedelta(minutes=1))  # the lease ran out while "paused" slept
    seen: Counter[str] = Counter()
    other = Scheduler(sessions, clock, {"probe": recording_handler(sessions, seen)}, owner="other")
    assert other.run_due() == 1
    with pytest.raises(LeaseLost), Lease(late, claimed).transaction() as s:
        audit.add(s, at=T0, actor="late", action="ran", detail="late")
    with sessions.begin() as s:
        assert s.scalars(select(AuditEvent.actor)).all() == ["probe"]
    assert seen == Counter({"probe:0": 1})


def test_a_failing_action_is_retried_with_backoff_then_marked_failed(sessions) -> None:  # type: ignore[no-untyped-def]
    insert_actions(sessions, 1, T0)
    clock = ManualClock(T0)
    calls: list[datetime] = []

    def broken(lease: Lease) -> None:
        calls.append(clock.now())
        raise RuntimeError("boom")

    gave_up: list[str] = []
    scheduler = Scheduler(
        sessions,
        clock,
        {"probe": broken},
        owner="one",
        on_give_up=lambda action, error: gave_up.append(f"{action.dedup_key} {error}"),
    )
    for _ in range(MAX_ATTEMPTS + 2):
        scheduler.run_due()
        clock.advance(timedelta(hours=1))
    assert len(calls) == MAX_ATTEMPTS
    assert gave_up == ["probe:0 RuntimeError: boom"]
    with sessions.begin() as s:
        row = s.scalars(select(DueAction)).one()
        assert row.status == "failed" and "boom" in (row.last_error or "")


def test_an_action_whose_payload_does_not_read_fails_at_once_and_others_run(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        due.schedule_action(
            s, kind="nag", due_at=T0, dedup_key="nag:1:0:2", now=T0, payload={"number": "two"}
        )
        due.schedule_action(
            s, kind="nag", due_at=T0, dedup_key="nag:1:0:3", now=T0, payload=write(Nag(3))
        )
    clock = ManualClock(T0)
    numbers: list[int] = []
    gave_up: list[str] = []
    scheduler = Scheduler(
        sessions,
        clock,
        {"nag": lambda lease: numbers.append(lease.payload(Nag).number)},
        owner="one",
        on_give_up=lambda action, error: gave_up.append(f"{action.dedup_key} {error}"),
    )
    assert scheduler.run_due() == 2
    assert numbers == [3]
    assert gave_up == ["nag:1:0:2 BadPayload: Nag.number is not a whole number: 'two'"]
    with sessions.begin() as s:
        rows = {r.dedup_key: r for r in s.scalars(select(DueAction)).all()}
        assert rows["nag:1:0:2"].status == DueStatus.FAILED and rows["nag:1:0:2"].attempts == 1
        assert rows["nag:1:0:3"].status == DueStatus.DONE


def test_sleep_never_passes_the_next_due_time(sessions) -> None:  # type: ignore[no-untyped-def]
    clock = ManualClock(T0)
    scheduler = Scheduler(sessions, clock, {}, owner="one", poll_seconds=60)
    assert scheduler.seconds_until_next() == 60
    insert_actions(sessions, 1, T0 + timedelta(seconds=7))
    assert scheduler.seconds_until_next() == 7
    clock.advance(timedelta(seconds=10))
    assert scheduler.seconds_until_next() == 0


def test_an_inserted_action_wakes_the_sleeping_scheduler(sessions) -> None:  # type: ignore[no-untyped-def]
    ran = threading.Event()

    def handle(lease: Lease) -> None:
        ran.set()

    scheduler = Scheduler(sessions, SystemClock(), {"probe": handle}, owner="one", poll_seconds=300)
    scheduler.start()
    try:
        assert scheduler.asleep.wait(10)  # asleep for up to five minutes: only wake() helps
        with sessions.begin() as s:
            due.schedule_action(
                s, kind="probe", due_at=datetime.now(UTC), dedup_key="now", now=datetime.now(UTC)
            )
        scheduler.wake(datetime.now(UTC))
        assert ran.wait(10), "the scheduler slept through a due action despite being woken"
    finally:
        scheduler.stop()


def test_an_action_due_after_the_next_look_leaves_the_scheduler_asleep(sessions) -> None:  # type: ignore[no-untyped-def]
    passes: list[float] = []
    looked_again = threading.Event()

    class Counting(Scheduler):
        def seconds_until_next(self) -> float:
            passes.append(time.monotonic())
            if len(passes) > 1:
                looked_again.set()
            return super().seconds_until_next()

    scheduler = Counting(sessions, SystemClock(), {}, owner="one", poll_seconds=300)
    scheduler.start()
    try:
        assert scheduler.asleep.wait(10)
        looked = len(passes)
        later = datetime.now(UTC) + timedelta(hours=2)  # e.g. the expiry of a new request
        with sessions.begin() as s:
            due.schedule_action(s, kind="probe", due_at=later, dedup_key="later", now=later)
        assert not scheduler.wake(later)  # it looks again within five minutes anyway
        assert len(passes) == looked
        assert looked == 1 and not looked_again.is_set()
        assert scheduler.wake(datetime.now(UTC) + timedelta(seconds=1))  # before its next look
        assert looked_again.wait(10)
    finally:
        scheduler.stop()


def test_the_same_notice_from_two_replicas_is_posted_once(sessions) -> None:  # type: ignore[no-untyped-def]
    clock = ManualClock(T0)
    slack = SlackStandIn()
    client = slack_client(slack.token, slack.start())
    notifiers = [notifier_for(client, sessions, clock) for _ in range(2)]
    start = threading.Barrier(len(notifiers) * 5)

    def post(notifier: SlackNotifier) -> None:
        start.wait()
        notifier.post_once("remind:1", "C0APPROVALS", "reminder")

    threads = [threading.Thread(target=post, args=(n,)) for n in notifiers * 5]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(slack.calls_to("chat.postMessage")) == 1
    slack.stop()


class FlakySessions:
    """Sessions whose first ``fails`` transactions cannot reach the database."""

    def __init__(self, sessions, fails: int) -> None:  # type: ignore[no-untyped-def]
        self._sessions = sessions
        self.fails = fails

    def begin(self):  # type: ignore[no-untyped-def]
        if self.fails:
            self.fails -= 1
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
        return self._sessions.begin()


def test_the_scheduler_outlives_a_ledger_it_cannot_reach_and_counts_each_failure(sessions) -> None:  # type: ignore[no-untyped-def]
    insert_actions(sessions, 1, T0)
    ran = threading.Event()
    scheduler = Scheduler(
        FlakySessions(sessions, fails=3),  # type: ignore[arg-type]
        ManualClock(T0),
        {"probe": lambda lease: ran.set()},
        owner="one",
        poll_seconds=0.05,
    )
    scheduler.start()
    try:
        assert ran.wait(10)  # the pass after three failed ones ran the action
        assert scheduler.is_alive()
    finally:
        scheduler.stop()
    pulse = scheduler.heartbeat.read()
    assert (pulse.failures, pulse.failing, pulse.last_error) == (3, 0, "OperationalError")
    assert pulse.last_pass_ago is not None
