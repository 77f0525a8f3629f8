"""Merges switched off by hand before a window begins come back on after it.

The runbook tells people to switch merges off before the outage, so some do it by hand after
the window is approved. The bot keeps what it reads of idle environments (the watchdog, the
look before the start) and judges the schedule found at the start against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.sandbox.slack_api import Message
from bot.services.reports import Report, ReportKind
from bot.slack import ids
from bot.slack.messages import render_report
from coursedog.models import Schedule
from storage.models import AuditEvent, Baseline
from tests.harness import (
    APPROVALS,
    APPROVER,
    REQUESTER,
    STRANGER,
    Bot,
    ManualClock,
    buttons,
    running_bot,
)

HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)
SCHEDULE = "integrationSchedule"
# 22:00 in New York, seven hours after the clock's start; the reminder comes at 21:00.
AT_2200 = "schedule prod 2026-12-05 22:00 2h Banner upgrade"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 5, 20, 0, tzinfo=UTC))  # 15:00 in New York


@pytest.fixture
def bot(database_url: str, clock: ManualClock, request: pytest.FixtureRequest) -> Iterator[Bot]:
    """The bot; parametrized indirectly with "assumed", its Coursedog also answers booleans."""
    shape = getattr(request, "param", "seen")
    with running_bot(database_url, clock=clock, shape=shape) as running:
        yield running


def prod(bot: Bot) -> tuple[bool, bool]:
    school = bot.sim.school("state_u_prod")
    return school.nightly, school.realtime


def set_prod(bot: Bot, nightly: bool, realtime: bool) -> None:
    bot.sim.set_school("state_u_prod", {"nightly": nightly, "realtime": realtime})


def schedule_and_approve(bot: Bot) -> None:
    bot.command(REQUESTER, AT_2200)
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()


def watch(bot: Bot, clock: ManualClock, later: timedelta = 5 * MIN) -> None:
    """The watchdog's periodic look, some minutes later."""
    clock.advance(later)
    bot.runtime.worker.watch()
    assert bot.settle()


def until_start(bot: Bot, clock: ManualClock) -> None:
    """Run the timetable up to the window's start (22:00 New York = 03:00 UTC)."""
    clock.advance(datetime(2026, 12, 6, 2, 0, tzinfo=UTC) - clock.now())
    bot.tick()  # the reminder
    clock.advance(HOUR)
    bot.tick()  # the start
    assert bot.settle()


def until_end(bot: Bot, clock: ManualClock) -> None:
    clock.advance(2 * HOUR)
    bot.tick()
    assert bot.settle()


def thread(bot: Bot) -> str:
    return "\n".join(bot.thread(1))


def question(bot: Bot, words: str) -> Message:
    card = bot.card(1)
    return next(m for m in bot.slack.thread(card.channel, card.ts) if words in m.text)


def baseline(bot: Bot) -> Baseline:
    with bot.runtime.sessions.begin() as session:
        row = session.scalars(select(Baseline).order_by(Baseline.id.desc())).first()
        assert row is not None
        session.expunge(row)
        return row


def test_merges_switched_off_by_hand_after_approval_come_back_on_after_the_window(
    bot: Bot, clock: ManualClock
) -> None:
    schedule_and_approve(bot)
    watch(bot, clock)  # seen on, after the approval
    set_prod(bot, False, False)  # someone follows the runbook and switches off early

    until_start(bot, clock)

    assert bot.sim.calls("PUT", SCHEDULE) == 0  # already off: nothing to write
    said = thread(bot)
    assert (
        "`prod` (Production) was switched off by hand before MW-1 began: the bot last saw "
        "nightly on, real-time on"
    ) in said
    assert "At the end it will switch back on nightly and real-time." in said
    assert "no merge schedule was on" not in said
    assert (baseline(bot).nightly, baseline(bot).realtime) == (True, True)
    # The Activity comment states what people had, not what the start found.
    (comment,) = bot.sim.school("state_u_prod").comments
    assert "Before: nightly on, real-time on" in comment

    until_end(bot, clock)

    assert prod(bot) == (True, True)
    assert "schedule restored and verified: nightly on, real-time on" in thread(bot)


def test_the_look_before_the_start_is_evidence_enough(bot: Bot, clock: ManualClock) -> None:
    schedule_and_approve(bot)
    reads = bot.sim.calls("GET", SCHEDULE)
    clock.advance(datetime(2026, 12, 6, 2, 0, tzinfo=UTC) - clock.now())
    bot.tick()  # the reminder, an hour before the start: it reads prod
    assert bot.settle()
    assert bot.sim.calls("GET", SCHEDULE) == reads + 1
    set_prod(bot, True, False)  # real-time switched off by hand; nightly left on

    clock.advance(HOUR)
    bot.tick()
    assert bot.settle()

    assert prod(bot) == (False, False)
    said = thread(bot)
    assert "merges switched off and verified by reading back. Was nightly on, real-time off" in (
        said
    )
    assert "At the end it will switch back on real-time." in said
    until_end(bot, clock)
    assert prod(bot) == (True, True)


def test_without_a_read_since_the_approval_a_person_chooses_what_comes_back(
    bot: Bot, clock: ManualClock
) -> None:
    watch(bot, clock)  # seen on, but before the request
    clock.advance(MIN)
    schedule_and_approve(bot)
    set_prod(bot, False, False)
    # Nothing is read after the approval: no watchdog pass, and the bot was down at the
    # reminder's time, so the late reminder is skipped by the start that comes with it.
    clock.advance(datetime(2026, 12, 6, 3, 0, tzinfo=UTC) - clock.now())
    bot.tick()  # the start; the reminder is late and skipped, so nothing reads before it
    assert bot.settle()

    said = thread(bot)
    assert "merges were found nightly off, real-time off when MW-1 began" in said
    assert "last saw nightly on, real-time on, and the bot has not seen them so since the " in said
    asked = question(bot, "cannot tell whether")
    assert buttons(asked) == [ids.BASELINE_OBSERVED, ids.BASELINE_FOUND]
    assert baseline(bot).question == "open"

    # Someone who may not manage the window cannot choose.
    bot.click(STRANGER, ids.BASELINE_OBSERVED, "prod", asked)
    assert baseline(bot).question == "open"
    bot.click(REQUESTER, ids.BASELINE_OBSERVED, "prod", asked)
    assert baseline(bot).question == "observed"
    assert f"<@{REQUESTER}> chose to restore nightly on, real-time on" in str(bot.responses())

    until_end(bot, clock)
    assert prod(bot) == (True, True)


def test_a_schedule_that_changed_more_than_once_is_not_guessed(
    bot: Bot, clock: ManualClock
) -> None:
    schedule_and_approve(bot)
    watch(bot, clock)
    set_prod(bot, False, False)
    watch(bot, clock)
    set_prod(bot, True, True)
    watch(bot, clock)
    set_prod(bot, False, False)

    until_start(bot, clock)

    said = thread(bot)
    assert "the schedule changed 3 times since the window was approved" in said
    asked = question(bot, "cannot tell whether")
    bot.click(REQUESTER, ids.BASELINE_FOUND, "prod", asked)

    until_end(bot, clock)
    assert prod(bot) == (False, False)  # left as found, as chosen
    assert bot.sim.calls("PUT", SCHEDULE) == 0


def test_a_window_that_ends_before_anyone_chose_restores_nothing_until_someone_does(
    bot: Bot, clock: ManualClock
) -> None:
    schedule_and_approve(bot)
    watch(bot, clock)
    set_prod(bot, False, False)
    watch(bot, clock)
    set_prod(bot, True, True)
    watch(bot, clock)
    set_prod(bot, False, False)
    until_start(bot, clock)

    until_end(bot, clock)

    assert prod(bot) == (False, False)
    assert "has ended, but nobody has chosen whether to switch back on nightly and real-time" in (
        thread(bot)
    )
    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()
    assert thread(bot).count("has ended, but nobody has chosen") == 1  # asked once
    asked = question(bot, "has ended, but nobody has chosen")
    bot.click(APPROVER, ids.BASELINE_OBSERVED, "prod", asked)
    assert bot.settle()

    assert prod(bot) == (True, True)
    with bot.runtime.sessions.begin() as session:
        chosen = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "baseline_chosen")
        ).all()
    assert chosen == ["restore nightly on, real-time on (observed)"]


def test_merges_found_as_last_seen_need_no_explaining(bot: Bot, clock: ManualClock) -> None:
    set_prod(bot, True, False)
    watch(bot, clock)
    clock.advance(MIN)
    schedule_and_approve(bot)
    watch(bot, clock)

    until_start(bot, clock)

    assert "switched off by hand" not in thread(bot) and "cannot tell" not in thread(bot)
    assert baseline(bot).evidence is None
    until_end(bot, clock)
    assert prod(bot) == (True, False)


def test_the_watchdog_names_the_window_about_to_start_and_what_it_will_restore(
    bot: Bot, clock: ManualClock
) -> None:
    schedule_and_approve(bot)
    watch(bot, clock)
    set_prod(bot, False, False)

    watch(bot, clock)

    notices = [m.text for m in bot.slack.messages.values() if m.channel == APPROVALS]
    off = [t for t in notices if "`prod`" in t and "merges are off" in t]
    assert len(off) == 1
    assert "MW-1 is approved to start on it soon" in off[0]
    assert "the bot last saw nightly on, real-time on" in off[0]
    assert "will switch back on nightly and real-time when MW-1 ends" in off[0]


@pytest.mark.parametrize("bot", ["assumed"], indirect=True)  # nightly off, real-time on
def test_the_watchdog_reports_the_nightly_merge_off_alone(bot: Bot, clock: ManualClock) -> None:
    def notices() -> list[str]:
        return [
            m.text
            for m in bot.slack.messages.values()
            if m.channel == APPROVALS and "`staging`" in m.text and "no maintenance" in m.text
        ]

    bot.sim.set_school("state_u_staging", {"nightly": False, "realtime": True})
    watch(bot, clock)

    assert len(notices()) == 1
    assert "the nightly merge is off (nightly off, real-time on)" in notices()[0]
    # Nightly on with real-time off is a setting many schools choose: nothing to report.
    bot.sim.set_school("state_u_staging", {"nightly": True, "realtime": False})
    watch(bot, clock)
    bot.sim.set_school("state_u_sandbox", {"nightly": True, "realtime": False})
    watch(bot, clock)
    assert len(notices()) == 1


def test_the_question_renders_with_what_would_come_back() -> None:
    report = Report(
        3,
        "prod",
        ReportKind.BASELINE_QUESTION,
        before=Schedule(False, False),
        after=Schedule(True, False),
        detail="the schedule changed 2 times since the window was approved",
    )
    text = render_report(report, {"prod": "Production"})
    assert "found nightly off, real-time off when MW-3 began" in text
    assert "last saw nightly on, real-time off" in text
