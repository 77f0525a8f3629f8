"""After restoring: the first merge is found and reported, or its absence is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs.merge_watch import first_merge_since
from bot.slack import ids
from coursedog.models import MergeRun
from coursedog.wire import in_progress_item, merge_report_item
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as running:
        running.command(REQUESTER, "start prod 1h")
        running.click(APPROVER, ids.APPROVE, "1", running.wait_card(1))
        clock.advance(30 * MIN)
        running.command(REQUESTER, "end MW-1")  # restored at T0 + 30m
        yield running


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_the_first_merge_after_restoring_is_reported_with_its_link(
    bot: Bot, clock: ManualClock
) -> None:
    assert "reach the SIS with the next merge" in bot.thread(1)[-1]
    bot.sim.add_merge_item("state_u_prod", merge_report_item("old", "success", "nightly", iso(T0)))
    clock.advance(15 * MIN)
    bot.tick()
    assert "first" not in bot.thread(1)[-1]
    bot.sim.add_merge_item("state_u_prod", in_progress_item("job-1", "manual"))
    clock.advance(15 * MIN)
    bot.tick()
    assert "first" not in bot.thread(1)[-1]  # still running: look again later
    bot.sim.add_merge_item(
        "state_u_prod", merge_report_item("r-42", "finishedWithIssues", "manual", iso(clock.now()))
    )
    clock.advance(15 * MIN)
    bot.tick()
    last = bot.thread(1)[-1]
    assert "the first manual merge since MW-1 finished with status `finishedWithIssues`" in last
    assert "check the report" in last
    assert "merge-history/r-42|Merge report" in last
    clock.advance(60 * MIN)
    assert bot.tick() == 0  # done: nothing more to watch


def test_no_merge_for_a_day_reminds_the_owner(bot: Bot, clock: ManualClock) -> None:
    clock.advance(26 * 60 * MIN)
    bot.tick()
    last = bot.thread(1)[-1]
    assert "no nightly or manual merge has run since" in last
    assert "Sections, then Courses, then Relationships" in last
    assert "no nightly or manual merge" in bot.slack.direct_messages(REQUESTER)[-1].text
    clock.advance(60 * MIN)
    assert bot.tick() == 0


def test_first_merge_since_ignores_older_merges_and_picks_the_oldest_newer_one() -> None:
    since = T0
    runs = [
        MergeRun("new", "nightly", "success", True, iso(T0 + 2 * MIN)),
        MergeRun("newer", "nightly", "failed", False, iso(T0 + 5 * MIN)),
        MergeRun("old", "nightly", "success", True, iso(T0 - MIN)),
        MergeRun(None, "manual", "running", None, None),
    ]
    assert first_merge_since(runs, since) == runs[0]
    assert first_merge_since(runs[2:3], since) is None
    assert first_merge_since(runs[3:], since) == runs[3]
