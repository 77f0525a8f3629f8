"""A merge already running when a window starts: the thread hears which and since when before
the switch-off, and again when it finishes; the switch-off never waits beyond one bounded read."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.config import parse_settings
from bot.services.running_merges import READS_PER_SWITCH, Look, RunningMerges
from bot.slack import ids
from coursedog.models import MergeRun
from coursedog.simulator_faults import Fault
from coursedog.wire import in_progress_item, merge_report_item, merge_run_from_wire
from storage.models import AuditEvent, DueAction
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot, settings_document

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
PROD = "state_u_prod"


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def bounded(url: str) -> Any:
    """The read at a start may take 1.5 s at most (room for a loaded machine's three reads)."""
    return parse_settings(settings_document(url, merge_watch={"start_read_seconds": 1.5}))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock, settings_factory=bounded) as running:
        yield running


def start_now(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()


def audit(bot: Bot, action: str) -> list[str]:
    with bot.runtime.sessions.begin() as s:
        stmt = select(AuditEvent.detail).where(AuditEvent.action == action)
        return list(s.scalars(stmt).all())


def watches(bot: Bot) -> list[str]:
    with bot.runtime.sessions.begin() as s:
        stmt = select(DueAction.status).where(DueAction.kind == "watch_running_merge")
        return list(s.scalars(stmt).all())


def test_a_running_merge_is_named_before_the_switch_off_and_its_end_reported(
    bot: Bot, clock: ManualClock
) -> None:
    bot.sim.add_merge_item(PROD, merge_report_item("r-1", "success", "nightly", iso(T0 - 60 * MIN)))
    bot.sim.add_merge_item(PROD, in_progress_item("job-7", "nightly", date=iso(T0 - 20 * MIN)))
    start_now(bot)
    prod = bot.sim.school(PROD)
    assert (prod.nightly, prod.realtime, prod.writes) == (False, False, 1)  # switched anyway
    thread = bot.thread(1)
    said = next(i for i, t in enumerate(thread) if "still running" in t)
    switched = next(i for i, t in enumerate(thread) if "switched off and verified" in t)
    assert said < switched
    note = thread[said]
    assert note.startswith("Approved by")  # one message with "approved"
    assert "`prod`: a nightly merge (job `merge-job-7`, RUNNING) started at" in note
    started = int(datetime(2026, 12, 5, 14, 40, tzinfo=UTC).timestamp())
    assert f"<!date^{started}^" in note  # in each reader's own zone
    assert "Coursedog does not say whether it stops one already running" in note
    assert audit(bot, "merge_running_at_start") == [
        "nightly merge merge-job-7 (RUNNING) since 2026-12-05T14:40:00.000Z"
    ]

    clock.advance(5 * MIN)
    bot.tick()
    assert "finished" not in bot.thread(1)[-1]  # still running: look again
    finished = merge_report_item("r-2", "finishedWithIssues", "nightly", iso(T0 - 20 * MIN))
    control = f"{bot.sim.base_url}/_sim/merge-history/{PROD}/job-7/finish"
    assert httpx.post(control, json=finished).status_code == 200
    clock.advance(5 * MIN)
    bot.tick()
    last = bot.thread(1)[-1]
    assert "`prod`: The nightly merge (job `job-7`) that was running when MW-1 started" in last
    assert "has finished" in last and "status `finishedWithIssues`" in last
    assert "merge-history/r-2|Merge report" in last
    clock.advance(60 * MIN)
    assert bot.tick() == 0  # done: nothing more to watch
    assert sum("has finished" in t for t in bot.thread(1)) == 1


def test_a_scheduled_start_says_so_even_without_a_start_time(bot: Bot, clock: ManualClock) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-05 16:00 1h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    bot.sim.add_merge_item(PROD, in_progress_item("rt-1", "realtime", "STARTING"))
    clock.advance(6 * 60 * MIN)  # 16:00 in New York
    bot.tick()
    assert bot.settle()
    assert bot.sim.school(PROD).writes == 1
    thread = bot.thread(1)
    said = next(i for i, t in enumerate(thread) if "still running" in t)
    switched = next(i for i, t in enumerate(thread) if "switched off and verified" in t)
    assert said < switched  # the start's own notice names it, before the switch-off
    note = thread[said]
    assert "MW-1 has started; switching merges off on" in note
    assert "a real-time merge (job `merge-rt-1`, STARTING) started at a time the merge " in note
    assert "history does not give" in note
    assert watches(bot) == ["pending"]


def test_an_unreadable_history_is_said_and_does_not_hold_the_switch_off(bot: Bot) -> None:
    bot.sim.inject(Fault("status", method="GET", path_contains="merge-history", times=None))
    start_now(bot)
    assert bot.sim.school(PROD).writes == 1
    note = next(t for t in bot.thread(1) if "merge history could not be read" in t)
    assert "`prod`: the merge history could not be read before switching off (" in note
    assert "whether a merge is running there is not known" in note
    assert watches(bot) == []


def test_a_slow_history_is_waited_for_no_longer_than_the_bound(bot: Bot) -> None:
    bot.sim.inject(Fault("delay", method="GET", path_contains="merge-history", delay=5.0))
    bot.sim.add_merge_item(PROD, in_progress_item("job-9", "nightly"))
    start_now(bot)
    assert bot.sim.school(PROD).writes == 1
    assert any(
        "could not be read before switching off (no answer within 1.5 s)" in t
        for t in bot.thread(1)
    )
    assert not any("still running" in t for t in bot.thread(1))


def test_nothing_running_says_nothing(bot: Bot) -> None:
    bot.sim.add_merge_item(PROD, merge_report_item("r-1", "success", "manual", iso(T0)))
    start_now(bot)
    assert not any("still running" in t or "could not be read" in t for t in bot.thread(1))
    assert watches(bot) == []


def test_a_merge_that_never_finishes_is_given_up_on(database_url: str, clock: ManualClock) -> None:
    def soon(url: str) -> Any:
        watch = {"start_read_seconds": 1.5, "give_up_after": "30m", "running_every": "5m"}
        return parse_settings(settings_document(url, merge_watch=watch))

    with running_bot(database_url, clock=clock, settings_factory=soon) as bot:
        bot.sim.add_merge_item(PROD, in_progress_item("job-3", "manual"))
        start_now(bot)
        for _ in range(5):
            clock.advance(5 * MIN)
            bot.tick()
            assert "stops watching" not in bot.thread(1)[-1]
        clock.advance(5 * MIN)
        bot.tick()
        last = bot.thread(1)[-1]
        assert "The manual merge (job `job-3`) that was running when MW-1 started is still" in last
        assert "stops watching it" in last
        assert "pending" not in watches(bot)
        clock.advance(60 * MIN)
        assert bot.tick() == 0


class History:
    """A merge history: reads on ``held`` environments wait for ``release``; counts them."""

    def __init__(self, env: str, held: bool, counts: dict[str, int], lock: threading.Lock) -> None:
        self.env, self.held, self.counts, self.lock = env, held, counts, lock
        self.release = threading.Event()

    def merge_history(self, schedule_type: str, size: int = 5) -> list[MergeRun]:
        with self.lock:
            self.counts[self.env] = self.counts.get(self.env, 0) + 1
        if self.held:
            self.release.wait(10)
        return []


def reader(clients: dict[str, Any], per_host: int) -> RunningMerges:
    doc = settings_document("http://a.example.edu", switches_per_host=per_host)
    doc["environments"]["sandbox"]["base_url"] = "http://b.example.edu"
    doc["merge_watch"] = {"start_read_seconds": 1.0}
    settings = parse_settings(doc)
    return RunningMerges(settings, sessionmaker(), ManualClock(T0), clients)


def test_the_reads_at_a_start_are_bounded_per_host_and_one_host_does_not_hold_up_another() -> None:
    counts: dict[str, int] = {}
    lock = threading.Lock()
    # prod and staging share a host whose reads never answer in time; sandbox is elsewhere.
    clients = {
        "prod": History("prod", True, counts, lock),
        "staging": History("staging", True, counts, lock),
        "sandbox": History("sandbox", False, counts, lock),
    }
    try:
        looks = reader(cast(dict[str, Any], clients), per_host=1).look(
            ["prod", "staging", "sandbox"]
        )
        with lock:
            on_a = counts.get("prod", 0) + counts.get("staging", 0)
        assert on_a == READS_PER_SWITCH * 1  # 3 of the 6 reads at once, none finished
        assert counts["sandbox"] == 3
        by_env = {look.environment: look for look in looks}
        assert by_env["sandbox"] == Look("sandbox")
        assert by_env["prod"].problem == "no answer within 1 s"
        assert by_env["staging"].problem == "no answer within 1 s"
    finally:
        for client in clients.values():
            client.release.set()
    with lock:
        assert counts.get("prod", 0) + counts.get("staging", 0) == 3  # the rest never started


def test_any_error_of_a_read_is_named_and_the_start_still_announced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def merge_history(self, schedule_type: str, size: int = 5) -> list[MergeRun]:
            raise KeyError("items")

    clients = cast(dict[str, Any], {"prod": Broken()})
    looks = reader(clients, per_host=4).look(["prod"])
    assert looks == [Look("prod", problem="KeyError: 'items'")]
    assert "merge history of prod unreadable at a start" in caplog.text


def test_a_running_item_reads_with_its_job() -> None:
    item = in_progress_item("j-1", "nightly", "RUNNABLE", date="2026-12-05T06:35:00Z")
    run = merge_run_from_wire(item, "manual")
    assert run == MergeRun(
        None,
        "nightly",
        "running",
        None,
        "2026-12-05T06:35:00Z",
        job_id="j-1",
        job_name="merge-j-1",
        job_status="RUNNABLE",
    )
    assert run.running
