"""People hear of a verified schedule before the Activity comment is posted, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import SystemClock
from bot.services.reconciler import Reconciler
from bot.services.reports import Report, ReportKind
from bot.slack import ids
from coursedog.simulator_faults import Fault
from storage import ledger
from storage.models import PendingReport
from tests.harness import APPROVER, REQUESTER, Bot, running_bot

PROD = "state_u_prod"


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    with running_bot(database_url) as running:
        yield running


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
