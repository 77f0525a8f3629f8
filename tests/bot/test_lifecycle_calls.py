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
from bot.sandbox.slack_api import SlackStandIn
from bot.services import reconciler as reconciler_module
from bot.services.plans import read_plan
from bot.services.reconciler import Reconciler
from bot.services.reports import Report, ReportKind
from bot.slack import ids
from coursedog.simulator import Timing
from coursedog.simulator_faults import Fault
from coursedog.wire import operation_label
from storage import ledger
from storage.models import PendingReport
from tests.harness import APPROVER, REQUESTER, Bot, running_bot

PROD = "state_u_prod"
READS = {"GET integrationSchedule", "GET enabledIntegrationSaveState"}
PHASE = ["PUT integrationSchedule", "GET integrationSchedule", "POST activity"]


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
def bot(database_url: str, slack: OrderedSlack) -> Iterator[Bot]:
    with running_bot(database_url, slack=slack) as running:
        slack.coursedog_requests = lambda: len(running.sim.requests)
        yield running


def label(timing: Timing) -> str:
    return operation_label(timing.method, timing.path)


def ended(timing: Timing) -> float:
    assert timing.answered is not None
    return timing.answered


def check_phase(bot: Bot, slack: OrderedSlack, first: int, verified: str) -> list[Timing]:
    """The calls from request ``first`` on: three round trips, then the message, the comment."""
    timings = bot.sim.timings
    calls = [t for t in timings[first:] if not t.path.endswith("/sessions")]
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

    first = len(bot.sim.requests)
    bot.command(REQUESTER, "end MW-1")
    on = check_phase(bot, slack, first, "restored and verified")
    assert (school.nightly, school.realtime) == (True, True)

    assert len(off) + len(on) == 10
    assert bot.sim.calls("POST", "/sessions") == 1
    assert len(bot.sim.requests) == 11  # the login and the ten: nothing else reached Coursedog
    assert school.extra_fields == {"nightlyStartTime": "01:30"}  # both writes kept it
    assert len(school.comments) == 2
    thread = bot.thread(1)
    assert sum("switched off and verified" in t for t in thread) == 1
    assert sum("restored and verified" in t for t in thread) == 1


def held_back(bot: Bot) -> None:
    """Start and approve MW-1 while another replica holds prod, so nothing is switched yet."""
    with bot.runtime.sessions.begin() as s:
        assert ledger.acquire_lease(s, "prod", "elsewhere", datetime.now(UTC), timedelta(minutes=5))
    bot.command(REQUESTER, "start prod 2h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    with bot.runtime.sessions.begin() as s:
        ledger.release_lease(s, "prod", "elsewhere", 1)
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
def test_a_decision_starts_the_read_while_the_plan_is_still_being_read(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, decision: str
) -> None:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    card = bot.wait_card(1)
    if decision == "end":
        bot.click(APPROVER, ids.APPROVE, "1", card)
        assert bot.settle()
    reads = bot.sim.calls("GET", "integrationSchedule")
    seen: list[int] = []

    def plan_once_read(session: Any, env: str, now: datetime) -> Any:
        # Hold the plan until Coursedog has the read (10 s at most): an early read arrives.
        deadline = time.monotonic() + 10
        while bot.sim.calls("GET", "integrationSchedule") == reads:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        seen.append(bot.sim.calls("GET", "integrationSchedule") - reads)
        return read_plan(session, env, now)

    monkeypatch.setattr(reconciler_module, "read_plan", plan_once_read)
    if decision == "approve":
        bot.click(APPROVER, ids.APPROVE, "1", card)
    else:
        bot.command(REQUESTER, "end MW-1")
    assert bot.settle()
    assert seen[0] == 1  # the schedule was being read before the ledger's plan was
    school = bot.sim.school(PROD)
    off = decision == "approve"
    assert (school.nightly, school.realtime) == ((False, False) if off else (True, True))
    assert school.writes == (1 if off else 2)
