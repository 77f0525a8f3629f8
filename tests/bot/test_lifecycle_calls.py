"""One window's lifecycle against the simulator: which Coursedog calls it makes, in what order,
and that people hear of a verified schedule before the Activity comment is posted."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import SystemClock
from bot.sandbox.slack_api import Message, SlackStandIn
from bot.services import reconciler as reconciler_module
from bot.services import timetable as timetable_module
from bot.services import windows as windows_module
from bot.services.plans import read_plan
from bot.services.reconciler import Reconciler
from bot.services.reports import Report, ReportKind
from bot.slack import ids
from coursedog.simulator import Timing
from coursedog.simulator_faults import Fault
from coursedog.wire import operation_label
from storage import leases
from storage.models import PendingReport
from tests.harness import APPROVER, REQUESTER, Bot, running_bot

PROD = "state_u_prod"
READS = {"GET integrationSchedule", "GET enabledIntegrationSaveState"}
PHASE = ["PUT integrationSchedule", "GET integrationSchedule", "POST activity"]
TTL = timedelta(minutes=5)


class OrderedSlack(SlackStandIn):
    """The Slack stand-in, noting how many Coursedog requests had arrived at each message."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.coursedog_requests: Callable[[], int] = lambda: 0
        self.posted: list[tuple[str, int]] = []

    def handle(
        self, method: str, args: dict[str, Any], auth: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "chat.postMessage":
            self.posted.append((str(args.get("text", "")), self.coursedog_requests()))
        return super().handle(method, args, auth)


@pytest.fixture
def slack() -> OrderedSlack:
    return OrderedSlack()


@pytest.fixture
def bot(database_url: str, slack: OrderedSlack, request: pytest.FixtureRequest) -> Iterator[Bot]:
    """The bot; parametrized indirectly with "assumed", its Coursedog also answers booleans."""
    shape = getattr(request, "param", "seen")
    with running_bot(database_url, slack=slack, shape=shape) as running:
        slack.coursedog_requests = lambda: len(running.sim.requests)
        yield running


def label(timing: Timing) -> str:
    return operation_label(timing.method, timing.path)


def ended(timing: Timing) -> float:
    assert timing.answered is not None
    return timing.answered


def merge_history_reads(bot: Bot, first: int) -> list[Timing]:
    """The reads of what merges are running, from request ``first`` on."""
    return [t for t in bot.sim.timings[first:] if t.path.endswith("/merge-history")]


def check_phase(bot: Bot, slack: OrderedSlack, first: int, verified: str) -> list[Timing]:
    """The calls from request ``first`` on: three round trips, then the message, the comment
    (besides the reads of what merges are running, at a start)."""
    timings = bot.sim.timings
    calls = [
        t
        for t in timings[first:]
        if not t.path.endswith("/sessions") and not t.path.endswith("/merge-history")
    ]
    assert [label(c) for c in calls[2:]] == PHASE
    read_a, read_b, write, read_back, comment = calls
    assert {label(read_a), label(read_b)} == READS
    # 1: the schedule and the saved state read at once.
    assert read_a.started < ended(read_b) and read_b.started < ended(read_a)
    # 2: the write, once both reads are answered; 3: the read-back, once the write is.
    assert write.started > max(ended(read_a), ended(read_b))
    assert read_back.started > ended(write)
    # The thread hears of it after the read-back and before the comment is even sent.
    (seen,) = [n for text, n in slack.posted if verified in text]
    assert timings.index(read_back) < seen <= timings.index(comment)
    return calls


def test_one_lifecycle_makes_ten_calls_with_three_round_trips_before_each_verification(
    bot: Bot, slack: OrderedSlack
) -> None:
    school = bot.sim.school(PROD)
    school.extra_fields = {"nightlyStartTime": "01:30"}
    bot.sim.latency = 0.1  # long enough for the two first reads to be seen overlapping
    bot.command(REQUESTER, "start prod 2h Banner patch")
    card = bot.wait_card(1)

    first = len(bot.sim.requests)
    bot.click(APPROVER, ids.APPROVE, "1", card)
    off = check_phase(bot, slack, first, "switched off and verified")
    assert (school.nightly, school.realtime) == (False, False)
    # At the start, what merges are running: every kind read at once, before the write.
    history = merge_history_reads(bot, first)
    assert len(history) == 3
    assert max(t.started for t in history) < min(ended(t) for t in history)
    write = next(t for t in off if label(t) == "PUT integrationSchedule")
    assert max(ended(t) for t in history) < write.started

    first = len(bot.sim.requests)
    bot.command(REQUESTER, "end MW-1")
    on = check_phase(bot, slack, first, "restored and verified")
    assert (school.nightly, school.realtime) == (True, True)

    assert len(off) + len(on) == 10
    assert merge_history_reads(bot, first) == []  # an end reads no merge history
    assert bot.sim.calls("POST", "/sessions") == 1
    # The login, the three reads of the merge history and the ten: nothing else reached Coursedog.
    assert len(bot.sim.requests) == 14
    assert school.extra_fields == {"nightlyStartTime": "01:30"}  # both writes kept it
    assert len(school.comments) == 2
    thread = bot.thread(1)
    assert sum("switched off and verified" in t for t in thread) == 1
    assert sum("restored and verified" in t for t in thread) == 1


def held_back(bot: Bot) -> None:
    """Start and approve MW-1 while another replica holds prod, so nothing is switched yet."""
    with bot.runtime.sessions.begin() as s:
        assert leases.acquire_lease(s, "prod", "elsewhere", datetime.now(UTC), timedelta(minutes=5))
    bot.command(REQUESTER, "start prod 2h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    with bot.runtime.sessions.begin() as s:
        leases.release_lease(s, "prod", "elsewhere", 1)
    assert bot.sim.calls("PUT", "integrationSchedule") == 0


def reconciler(bot: Bot) -> Reconciler:
    rt = bot.runtime
    return Reconciler(rt.settings, rt.sessions, SystemClock(), rt.clients, owner="test")


def test_the_verified_report_is_published_before_the_comment_and_the_comments_after(
    bot: Bot,
) -> None:
    held_back(bot)
    bot.sim.inject(Fault("status", method="POST", path_contains="activity", status=500))
    published: list[tuple[list[ReportKind], int]] = []

    def publish(reports: list[Report]) -> None:
        published.append(([r.kind for r in reports], bot.sim.calls("POST", "activity")))
        bot.runtime.notifier.publish(reports)

    found = reconciler(bot).reconcile("prod", publish=publish)

    assert [r.kind for r in found] == [ReportKind.SWITCHED_OFF, ReportKind.COMMENT_FAILED]
    assert published == [([ReportKind.SWITCHED_OFF], 0), ([ReportKind.COMMENT_FAILED], 1)]
    thread = bot.thread(1)
    assert sum("switched off and verified" in t for t in thread) == 1
    assert sum("could not add the comment" in t for t in thread) == 1
    bot.runtime.worker.run_once()  # nothing is owed, so nothing is posted again
    assert bot.settle()
    assert bot.thread(1) == thread
    with bot.runtime.sessions.begin() as s:
        assert s.scalars(select(PendingReport)).all() == []


def test_a_report_that_cannot_be_published_stays_owed_and_the_comment_still_goes(
    bot: Bot,
) -> None:
    held_back(bot)

    def publish(reports: list[Report]) -> None:
        raise RuntimeError("Slack is down")

    found = reconciler(bot).reconcile("prod", publish=publish)

    assert [r.kind for r in found] == [ReportKind.SWITCHED_OFF]
    assert len(bot.sim.school(PROD).comments) == 1
    assert not any("switched off and verified" in t for t in bot.thread(1))
    bot.runtime.worker.run_once()  # offers what is owed
    assert bot.settle()
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert sum("switched off and verified" in t for t in bot.thread(1)) == 1
    assert len(bot.sim.school(PROD).comments) == 1
    with bot.runtime.sessions.begin() as s:
        assert s.scalars(select(PendingReport)).all() == []


def test_without_a_publish_function_the_caller_gets_every_report_unpublished(bot: Bot) -> None:
    held_back(bot)

    found = reconciler(bot).reconcile("prod")

    assert [r.kind for r in found] == [ReportKind.SWITCHED_OFF]
    assert not any("switched off and verified" in t for t in bot.thread(1))
    assert len(bot.sim.school(PROD).comments) == 1
    bot.runtime.notifier.publish(found)
    assert sum("switched off and verified" in t for t in bot.thread(1)) == 1


@pytest.mark.parametrize("decision", ["approve", "end"])
def test_with_the_lease_busy_at_the_decision_the_pass_reads_beside_its_plan(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, decision: str
) -> None:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    card = bot.wait_card(1)
    if decision == "end":
        bot.click(APPROVER, ids.APPROVE, "1", card)
        assert bot.settle()
    reads = bot.sim.calls("GET", "integrationSchedule")
    with bot.runtime.sessions.begin() as s:  # another replica holds prod: nothing read ahead
        epoch = leases.acquire_lease(s, "prod", "elsewhere", datetime.now(UTC), TTL)
    assert epoch is not None
    decide(bot, decision, card)
    assert bot.settle()
    assert bot.sim.calls("GET", "integrationSchedule") == reads
    with bot.runtime.sessions.begin() as s:
        assert leases.release_lease(s, "prod", "elsewhere", epoch)
    seen: list[int] = []

    def plan_once_read(session: Any, env: str, now: datetime, **options: Any) -> Any:
        # Hold the plan until Coursedog has the read (10 s at most): an early read arrives.
        wait_for(lambda: bot.sim.calls("GET", "integrationSchedule") > reads)
        seen.append(bot.sim.calls("GET", "integrationSchedule") - reads)
        return read_plan(session, env, now)

    monkeypatch.setattr(reconciler_module, "read_plan", plan_once_read)
    bot.runtime.worker.kick(["prod"], reading=True)  # as the decision's own kick would
    assert bot.settle()
    assert seen[0] == 1  # the schedule was being read before the ledger's plan was
    school = bot.sim.school(PROD)
    off = decision == "approve"
    assert (school.nightly, school.realtime) == ((False, False) if off else (True, True))
    assert school.writes == (1 if off else 2)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def schedule_reads(bot: Bot) -> list[Timing]:
    return [t for t in bot.sim.timings if label(t) == "GET integrationSchedule"]


def decide(bot: Bot, decision: str, card: Message) -> None:
    if decision == "approve":
        bot.click(APPROVER, ids.APPROVE, "1", card)
    else:
        bot.command(REQUESTER, "end MW-1")


def inside_the_decision(
    monkeypatch: pytest.MonkeyPatch, decision: str, step: Callable[[], None]
) -> None:
    """Run ``step`` inside the decision's transaction, after the decision has let the read go
    ahead and before the transaction commits."""
    if decision == "approve":
        target, name = timetable_module, "plan_end"
    else:
        target, name = windows_module, "end_window"
    original = getattr(target, name)

    def then_step(*args: Any, **kwargs: Any) -> Any:
        step()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, then_step)


def approved_first(bot: Bot, decision: str) -> Message:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    card = bot.wait_card(1)
    if decision == "end":
        bot.click(APPROVER, ids.APPROVE, "1", card)
        assert bot.settle()
    return card


@pytest.mark.parametrize("decision", ["approve", "end"])
def test_a_decision_has_the_schedule_read_before_it_is_even_committed(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, decision: str
) -> None:
    card = approved_first(bot, decision)
    reads = len(schedule_reads(bot))
    seen: list[bool] = []
    inside_the_decision(
        monkeypatch,
        decision,
        lambda: seen.append(wait_for(lambda: len(schedule_reads(bot)) > reads)),
    )

    decide(bot, decision, card)
    assert bot.settle()

    assert seen == [True]  # Coursedog had the read while the decision was still uncommitted
    assert len(schedule_reads(bot)) == reads + 2  # that read and the read-back: none wasted
    school = bot.sim.school(PROD)
    off = decision == "approve"
    assert (school.nightly, school.realtime) == ((False, False) if off else (True, True))
    assert school.writes == (1 if off else 2)
    verified = "switched off and verified" if off else "restored and verified"
    assert sum(verified in t for t in bot.thread(1)) == 1


@pytest.mark.parametrize("bot", ["assumed"], indirect=True)  # real-time on with nightly off
@pytest.mark.parametrize("decision", ["approve", "end"])
def test_a_read_ahead_is_not_used_when_the_lease_changed_hands_before_the_pass(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, decision: str
) -> None:
    card = approved_first(bot, decision)
    school = bot.sim.school(PROD)
    reads = len(schedule_reads(bot))
    acquire = leases.acquire_lease
    others: list[int] = []

    def another_replica_first(session: Any, env: str, owner: str, *args: Any) -> int | None:
        # Once the read ahead is answered and before the pass takes prod, another process
        # takes it, switches realtime, and lets go.
        if not others:
            assert wait_for(lambda: len(schedule_reads(bot)) > reads)
            assert wait_for(lambda: schedule_reads(bot)[reads].answered is not None)
            with bot.runtime.sessions.begin() as s:
                epoch = acquire(s, "prod", "elsewhere", datetime.now(UTC), TTL)
            assert epoch is not None
            others.append(epoch)
            school.realtime = not school.realtime
            with bot.runtime.sessions.begin() as s:
                assert leases.release_lease(s, "prod", "elsewhere", epoch)
        return acquire(session, env, owner, *args)

    monkeypatch.setattr(leases, "acquire_lease", another_replica_first)
    decide(bot, decision, card)
    assert bot.settle()
    monkeypatch.undo()

    assert others  # the other process did come in between
    assert len(schedule_reads(bot)) == reads + 3  # ahead, again under the lease, read-back
    if decision == "approve":
        assert (school.nightly, school.realtime) == (False, False)
        bot.command(REQUESTER, "end MW-1")
        assert bot.settle()
        # The baseline is what the other process left, not what was read ahead of it.
        assert (school.nightly, school.realtime) == (True, False)
    else:
        # Switched realtime on during the window: the baseline (both on) is restored over it.
        assert (school.nightly, school.realtime) == (True, True)
        assert school.writes == 2


def test_nothing_is_read_ahead_while_another_process_holds_the_environment(bot: Bot) -> None:
    held_back(bot)

    assert schedule_reads(bot) == []  # the approval read nothing: prod was not free
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert len(schedule_reads(bot)) == 2  # the pass's own read, and its read-back
    assert (bot.sim.school(PROD).nightly, bot.sim.school(PROD).realtime) == (False, False)


def test_an_approval_for_a_later_start_reads_nothing(bot: Bot) -> None:
    later = datetime.now(UTC) + timedelta(days=20)
    bot.command(REQUESTER, f"schedule prod {later:%Y-%m-%d} 10:00 1h Banner upgrade")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()

    assert "approved" in bot.runtime.windows.get(1).state
    assert bot.sim.requests == []
