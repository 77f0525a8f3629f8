"""A switch-off that reaches Coursedog late never undoes a verified restore."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.slack import ids
from coursedog.simulator_faults import Fault
from storage.models import AuditEvent, RemoteWrite
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot

SCHEDULE = "integrationSchedule"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as running:
        yield running


def prod(bot: Bot) -> tuple[bool, bool]:
    school = bot.sim.school("state_u_prod")
    return school.nightly, school.realtime


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for the simulator's own thread to apply a request it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the held request was never applied"
        time.sleep(0.01)


def switch_off_with_a_lost_answer(bot: Bot) -> None:
    """The first switch-off is held by Coursedog (the bot gives up on it, reads it not
    applied, sends it again, and verifies); the held one is still on its way."""
    bot.sim.inject(Fault("apply_late", method="PUT", path_contains=SCHEDULE))
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    assert prod(bot) == (False, False)
    assert bot.sim.calls("PUT", SCHEDULE) == 2


def test_a_late_switch_off_after_the_restore_is_undone_and_explained(
    bot: Bot, clock: ManualClock
) -> None:
    switch_off_with_a_lost_answer(bot)
    bot.command(REQUESTER, "end MW-1")
    assert bot.settle()
    assert prod(bot) == (True, True)
    writes = bot.sim.school("state_u_prod").writes

    bot.sim.release_late()  # the first switch-off lands now, after the verified restore
    until(lambda: bot.sim.school("state_u_prod").writes == writes + 1)
    assert prod(bot) == (False, False)
    clock.advance(timedelta(minutes=1))
    bot.runtime.worker.run_once()  # the periodic pass over what is in play
    assert bot.settle()

    assert prod(bot) == (True, True)
    said = bot.thread(1)[-1]
    assert "reached Coursedog late and set the schedule to nightly off, real-time off" in said
    assert "Restored again and verified: nightly on, real-time on." in said
    # Watched no longer: a later switch-off by hand is the watchdog's to report, not undone.
    bot.sim.set_school("state_u_prod", {"nightly": False, "realtime": False})
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert prod(bot) == (False, False)
    assert bot.runtime.worker.environments_in_play() == set()
    with bot.runtime.sessions.begin() as session:
        flagged = session.scalars(
            select(AuditEvent.data).where(AuditEvent.action == "schedule_written")
        ).all()
    assert [d.get("may_land_late", False) for d in flagged] == [True, False, False]


def test_a_late_write_is_watched_only_for_its_lifetime(bot: Bot, clock: ManualClock) -> None:
    switch_off_with_a_lost_answer(bot)
    bot.command(REQUESTER, "end MW-1")
    assert bot.settle()
    assert bot.runtime.worker.environments_in_play() == {"prod"}

    clock.advance(timedelta(seconds=bot.runtime.settings.late_write_seconds + 1))

    assert bot.runtime.worker.environments_in_play() == set()
    bot.sim.release_late()
    until(lambda: prod(bot) == (False, False))
    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()
    assert prod(bot) == (False, False)  # too late to be this write: left to the watchdog


def test_a_verified_write_with_no_lost_answer_is_not_watched(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    bot.command(REQUESTER, "end MW-1")
    assert bot.settle()

    with bot.runtime.sessions.begin() as session:
        late = session.scalars(
            select(RemoteWrite.late_until).where(RemoteWrite.operation == "write_schedule")
        ).all()
    assert late == [None, None]
    assert bot.runtime.worker.environments_in_play() == set()
