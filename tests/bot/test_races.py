"""Races: the same button ten times at once, two replicas on one ledger, a paused process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.run.runtime import Runtime
from bot.services.reconciler import Reconciler
from bot.slack import ids
from coursedog.models import Schedule, ScheduleSnapshot
from storage.models import AuditEvent, CoursedogNotice, DueAction, RemoteWrite
from tests import invariants
from tests.harness import APPROVER, APPROVER_2, REQUESTER, Bot, ManualClock, running_bot

TIMES = 10
T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
SCHOOLS = {"prod": "state_u_prod", "staging": "state_u_staging", "sandbox": "state_u_sandbox"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as running:
        yield running


def at_once(fire: Callable[[int], httpx.Response]) -> list[int]:
    """Fire TIMES requests together (released by one barrier); their HTTP statuses."""
    gate = threading.Barrier(TIMES)

    def one(n: int) -> int:
        gate.wait()
        return fire(n).status_code

    with ThreadPoolExecutor(TIMES) as pool:
        return list(pool.map(one, range(TIMES)))


def audit(bot: Bot, action: str) -> int:
    with bot.runtime.sessions.begin() as s:
        stmt = select(AuditEvent.id).where(AuditEvent.action == action)
        return len(s.scalars(stmt).all())


def check(bot: Bot) -> None:
    with bot.runtime.sessions.begin() as s:
        invariants.check(s, bot.sim, SCHOOLS)


def answers(bot: Bot, fragment: str) -> int:
    return sum(fragment in str(r.get("text", "")) for r in bot.responses())


def start_now(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    assert bot.sim.school("state_u_prod").writes == 1


def test_ten_ends_at_once_end_once_and_restore_once(bot: Bot) -> None:
    start_now(bot)
    card = bot.card(1)
    users = [REQUESTER, APPROVER] * (TIMES // 2)
    statuses = at_once(lambda n: bot.click(users[n], ids.REENABLE, "1", card, wait=False))
    assert statuses == [200] * TIMES
    assert bot.settle()
    assert audit(bot, "ended") == 1
    prod = bot.sim.school("state_u_prod")
    assert (prod.nightly, prod.realtime, prod.writes) == (True, True, 2)
    assert sum("ended by" in t for t in bot.thread(1)) == 1
    assert sum("restored and verified" in t for t in bot.thread(1)) == 1
    refused = answers(bot, "nothing to end") + answers(bot, "at the same moment")
    assert refused == TIMES - 1
    check(bot)


def test_ten_cancels_at_once_cancel_once(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    card = bot.card(1)
    statuses = at_once(lambda n: bot.click(REQUESTER, ids.CANCEL, "1", card, wait=False))
    assert statuses == [200] * TIMES
    assert bot.settle()
    assert audit(bot, "cancelled") == 1
    assert sum("was cancelled by" in t for t in bot.thread(1)) == 1
    assert answers(bot, "nothing to cancel") + answers(bot, "at the same moment") == TIMES - 1
    assert bot.runtime.windows.get(1).state == "cancelled"
    with bot.runtime.sessions.begin() as s:
        pending = s.scalars(select(DueAction.kind).where(DueAction.status == "pending")).all()
        told = s.scalars(select(CoursedogNotice.event).order_by(CoursedogNotice.id)).all()
    # Nothing of the window is left to run but telling Coursedog: approved, then cancelled once.
    assert pending == ["notify_coursedog", "notify_coursedog"]
    assert told == ["approved", "cancelled"]
    assert bot.sim.school("state_u_prod").writes == 0
    check(bot)


def test_ten_approvals_at_once_on_two_cards_decide_each_once(bot: Bot) -> None:
    # The Approve button ten times is in test_scenarios; here two windows race side by side.
    bot.command(REQUESTER, "start prod 2h")
    bot.command(REQUESTER, "start staging 2h")
    cards = [bot.wait_card(1), bot.wait_card(2)]
    approvers = [APPROVER, APPROVER_2]
    statuses = at_once(
        lambda n: bot.click(approvers[n % 2], ids.APPROVE, str(n % 2 + 1), cards[n % 2], wait=False)
    )
    assert statuses == [200] * TIMES
    assert bot.settle()
    assert audit(bot, "approved") == 2
    assert bot.sim.school("state_u_prod").writes == 1
    assert bot.sim.school("state_u_staging").writes == 1
    check(bot)


def test_ten_extends_at_once_from_one_reminder_extend_once(bot: Bot, clock: ManualClock) -> None:
    start_now(bot)
    before = bot.runtime.windows.get(1).ends_at
    assert before is not None
    clock.advance(timedelta(hours=1, minutes=46))  # the "ends soon" reminder with its buttons
    bot.tick()
    card = bot.card(1)
    reminder = bot.slack.thread(card.channel, card.ts)[-1]
    (value,) = [
        e["value"]
        for b in reminder.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.EXTEND_30
    ]
    statuses = at_once(lambda n: bot.click(REQUESTER, ids.EXTEND_30, value, reminder, wait=False))
    assert statuses == [200] * TIMES
    assert bot.settle()
    after = bot.runtime.windows.get(1).ends_at
    assert after == before + timedelta(minutes=30)
    assert audit(bot, "extended") == 1
    assert sum("extended MW-1 by 30m" in t for t in bot.thread(1)) == 1
    assert answers(bot, "was extended meanwhile") + answers(bot, "at the same moment") == 9
    with bot.runtime.sessions.begin() as s:
        ends = s.scalars(
            select(DueAction.due_at).where(DueAction.kind == "end", DueAction.status == "pending")
        ).all()
    assert ends == [after]
    # A later press on the same (now outdated) reminder changes nothing either.
    bot.click(APPROVER, ids.EXTEND_30, value, reminder)
    assert bot.runtime.windows.get(1).ends_at == after
    check(bot)


@contextmanager
def replicas(bot: Bot, n: int = 2) -> Iterator[list[Runtime]]:
    """The harness's runtime and n-1 more on the same ledger, Slack and Coursedog."""
    extra = [bot.rebuild(f"replica-{i + 1}") for i in range(1, n)]
    for runtime, _ in extra:
        runtime.start(scheduler=False)
    try:
        yield [bot.runtime, *(runtime for runtime, _ in extra)]
    finally:
        for runtime, listeners in extra:
            runtime.worker.wait_idle()
            runtime.stop()
            listeners.shutdown(wait=True)


def race_due(runtimes: list[Runtime]) -> int:
    gate = threading.Barrier(len(runtimes))
    ran: list[int] = []

    def run(runtime: Runtime) -> None:
        gate.wait()
        ran.append(runtime.scheduler.run_due())

    threads = [threading.Thread(target=run, args=(r,)) for r in runtimes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for runtime in runtimes:
        assert runtime.worker.wait_idle(20)
    return sum(ran)


def test_two_replicas_racing_on_the_same_due_actions_act_once(bot: Bot, clock: ManualClock) -> None:
    schedules = [
        "schedule prod 2026-12-05 12:00 2h first",
        "schedule staging 2026-12-05 12:00 2h second",
        "schedule prod,sandbox 2026-12-05 12:30 2h third",
    ]
    for number, text in enumerate(schedules, start=1):
        bot.command(REQUESTER, text)
        bot.click(APPROVER, ids.APPROVE, str(number), bot.wait_card(number))
    assert bot.settle()
    with replicas(bot) as runtimes:
        clock.advance(timedelta(hours=2))  # 12:00 New York: two starts (reminders folded)
        assert race_due(runtimes) >= 3
        assert bot.settle()
        clock.advance(timedelta(minutes=30))  # the third one starts
        race_due(runtimes)
        assert bot.settle()
        assert audit(bot, "started") == 3
        assert [bot.runtime.windows.get(n).state for n in (1, 2, 3)] == ["active"] * 3
        assert {s: bot.sim.school(s).writes for s in SCHOOLS.values()} == {
            "state_u_prod": 1,
            "state_u_staging": 1,
            "state_u_sandbox": 0,  # nothing was on
        }
        for number in (1, 2, 3):
            assert sum("has started" in t for t in bot.thread(number)) == 1
        check(bot)

        clock.advance(timedelta(hours=3))  # every end is due
        race_due(runtimes)
        for runtime in runtimes:
            runtime.worker.run_once()
        assert bot.settle()
        assert audit(bot, "ended") == 3
        assert bot.sim.school("state_u_prod").writes == 2  # held by two windows, restored once
        assert bot.sim.school("state_u_staging").writes == 2
        for number in (1, 2, 3):
            assert sum("reached its end" in t for t in bot.thread(number)) == 1
        with bot.runtime.sessions.begin() as s:
            statuses = set(s.scalars(select(DueAction.status)).all())
        assert "running" not in statuses and "failed" not in statuses
        check(bot)


class PausedRead:
    """A Coursedog client whose process stalls after a read (a long GC pause, a frozen VM)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.read = threading.Event()
        self.resume = threading.Event()
        self.writes = 0

    def read_schedule(self) -> ScheduleSnapshot:
        snapshot: ScheduleSnapshot = self.inner.read_schedule()
        self.read.set()
        assert self.resume.wait(30)
        return snapshot

    def write_schedule(self, schedule: Schedule, *, over: ScheduleSnapshot | None = None) -> None:
        self.writes += 1
        self.inner.write_schedule(schedule, over=over)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_process_paused_past_its_lease_writes_nothing_when_it_wakes(
    bot: Bot, clock: ManualClock
) -> None:
    start_now(bot)
    paused = PausedRead(bot.runtime.clients["prod"])
    late = Reconciler(
        bot.runtime.settings,
        bot.runtime.sessions,
        clock,
        {**bot.runtime.clients, "prod": paused},
        owner="paused-replica",
        lease_ttl=timedelta(minutes=5),
    )
    bot.sim.set_school("state_u_prod", {"nightly": True, "realtime": True})  # by hand
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(late.reconcile("prod")))
    thread.start()
    assert paused.read.wait(10)  # it read "on", planned "off", and stalled before writing

    clock.advance(timedelta(minutes=6))  # its lease runs out while it sleeps
    bot.runtime.worker.run_once(["prod"])  # another replica takes over and switches off
    assert bot.settle()
    bot.command(REQUESTER, "end MW-1")  # the window ends; that replica restores
    prod = bot.sim.school("state_u_prod")
    assert (prod.nightly, prod.realtime, prod.writes) == (True, True, 3)

    paused.resume.set()  # it wakes holding a stale "on" and a plan that says "off"
    thread.join(30)
    assert result == [[]] and paused.writes == 0
    prod = bot.sim.school("state_u_prod")
    assert (prod.nightly, prod.realtime, prod.writes) == (True, True, 3)  # never re-disabled
    assert "restored and verified" in bot.thread(1)[-1]
    with bot.runtime.sessions.begin() as s:
        writes = s.scalars(select(RemoteWrite.status).where(RemoteWrite.environment == "prod"))
        assert "pending" not in list(writes)
    check(bot)
