"""Request ids: one per Slack request, carried into the listener's thread; one per due action."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs.scheduler import Lease, Scheduler
from bot.logs import current_fields, log_context
from storage import due
from storage.db import make_engine, make_sessions
from tests.bot.logs.conftest import Captured
from tests.harness import REQUESTER, Bot, ManualClock, running_bot

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    with running_bot(database_url) as running:
        yield running


def test_a_slack_request_and_the_work_after_its_acknowledgement_share_one_id(
    bot: Bot, capture_logs: Callable[..., Captured], monkeypatch: pytest.MonkeyPatch
) -> None:
    captured = capture_logs()

    def broken(**_: object) -> None:
        raise RuntimeError("database on fire")

    # `status` reads Coursedog after acknowledging: the failure happens on the listener pool.
    monkeypatch.setattr(bot.runtime.clients["prod"], "read_switches", broken)
    bot.command(REQUESTER, "status")
    bot.command(REQUESTER, "help")
    records = captured.records()
    arrivals = [r for r in records if r["message"].startswith("Slack command from")]
    assert [r["message"] for r in arrivals] == [
        f"Slack command from {REQUESTER}: /sis-maint status",
        f"Slack command from {REQUESTER}: /sis-maint help",
    ]
    assert all(r["user"] == REQUESTER and r["slack"] == "command" for r in arrivals)
    first, second = (r["request_id"] for r in arrivals)
    assert first and second and first != second
    (failure,) = [r for r in records if r["message"].startswith("unexpected error")]
    assert failure["request_id"] == first
    assert failure["thread"] != arrivals[0]["thread"]  # logged by the pool, after the ack
    assert "database on fire" in failure["exception"]


def test_each_due_action_runs_under_its_own_id(
    database_url: str, capture_logs: Callable[..., Captured]
) -> None:
    captured = capture_logs()
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    seen: list[dict[str, object]] = []

    def handler(lease: Lease) -> None:
        seen.append(current_fields())
        logging.getLogger("sis_maint.test").info("running %s", lease.action.dedup_key)

    clock = ManualClock(T0)
    with sessions.begin() as session:
        for key in ("a", "b"):
            due.schedule_action(session, kind="probe", due_at=T0, dedup_key=key, now=T0)
    scheduler = Scheduler(sessions, clock, {"probe": handler}, owner="test")
    with log_context(request_id="outer"):
        assert scheduler.run_due() == 2
    engine.dispose()
    ids = [fields["request_id"] for fields in seen]
    assert len(set(ids)) == 2 and "outer" not in ids
    assert all(fields["action"] == "probe" for fields in seen)
    logged = [r for r in captured.records() if r["message"].startswith("running")]
    assert [r["request_id"] for r in logged] == ids
    assert {r["action_id"] for r in logged} == {1, 2}
    assert clock.now() - T0 < timedelta(seconds=1)
