"""A refused write is not a locked school; a locked checklist goes to Coursedog; a checklist
opened before the start is the window's own switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import parse_settings
from bot.domain.states import WindowState
from bot.sandbox.slack_api import Message
from bot.slack import ids
from storage.models import AuditEvent, Baseline, CoursedogNotice
from tests.harness import (
    APPROVER,
    EMAIL,
    REQUESTER,
    STRANGER,
    Bot,
    ManualClock,
    buttons,
    running_bot,
    settings_document,
)

SCHEDULE = "integrationSchedule"
HOUR = timedelta(hours=1)


def by_hand(base_url: str) -> Any:
    doc = settings_document(base_url, assisted={"verify_reads": 2, "verify_every_seconds": 0})
    doc["environments"]["prod"]["driver"] = "assisted"
    return parse_settings(doc)


def prod(bot: Bot) -> tuple[bool, bool]:
    school = bot.sim.school("state_u_prod")
    return school.nightly, school.realtime


def set_prod(bot: Bot, nightly: bool, realtime: bool) -> None:
    bot.sim.set_school("state_u_prod", {"nightly": nightly, "realtime": realtime})


def thread_message(bot: Bot, number: int, words: str) -> Message:
    card = bot.card(number)
    found = [m for m in bot.slack.thread(card.channel, card.ts) if words in m.text]
    assert found, bot.thread(number)
    return bot.slack.messages[found[-1].ts]


def notices(bot: Bot) -> list[str]:
    with bot.runtime.sessions.begin() as session:
        return list(session.scalars(select(CoursedogNotice.event).order_by(CoursedogNotice.id)))


def state(bot: Bot, number: int) -> str:
    return bot.runtime.windows.get(number).state


def test_a_read_only_api_user_gets_the_checklist_not_a_locked_school_notice(bot: Bot) -> None:
    bot.sim.read_only.add(EMAIL)
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()

    said = "\n".join(bot.thread(1))
    assert "Coursedog refused the bot's write" in said
    assert "The API user may be read-only, or the merge settings may be locked" in said
    assert "merge settings are locked (for example" not in said
    assert notices(bot) == ["approved"]  # Coursedog is not asked to switch anything itself
    assert state(bot, 1) == WindowState.ACTIVE
    checklist = thread_message(bot, 1, "switch merges off by hand")
    assert ids.CHECK_DONE in buttons(checklist)
    assert bot.sim.calls("PUT", SCHEDULE) == 1  # the one refused write, and no other

    # A person switches off in Merge Settings; the bot verifies by reading, writes nothing.
    set_prod(bot, False, False)
    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()
    assert "merges are off, verified by reading back" in "\n".join(bot.thread(1))
    assert "please add this comment to Merge Settings > Activity" in "\n".join(bot.thread(1))

    # The restore of this window is by hand too.
    bot.command(REQUESTER, "end MW-1")
    assert bot.settle()
    assert thread_message(bot, 1, "switch merges back on by hand")
    set_prod(bot, True, True)
    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()
    assert "restored and verified" in "\n".join(bot.thread(1))
    assert bot.sim.calls("PUT", SCHEDULE) == 1
    assert bot.sim.calls("POST", "activity") == 0
    with bot.runtime.sessions.begin() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "switched_to_checklist" in actions


def test_a_school_coursedog_says_is_locked_still_asks_coursedog(bot: Bot) -> None:
    bot.sim.set_school("state_u_prod", {"locked": True})
    bot.command(REQUESTER, "start prod 2h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()

    said = "\n".join(bot.thread(1))
    assert "merge settings are locked" in said and "read-only" not in said
    assert notices(bot) == ["approved", "locked_off"]
    assert state(bot, 1) == WindowState.FAILED


def test_a_locked_checklist_is_handed_to_coursedog_once(database_url: str) -> None:
    with running_bot(database_url, settings_factory=by_hand) as bot:
        bot.command(REQUESTER, "start prod 2h")
        bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
        assert bot.settle()
        checklist = thread_message(bot, 1, "switch merges off by hand")
        assert buttons(checklist)[-1] == ids.CHECK_LOCKED

        bot.click(STRANGER, ids.CHECK_LOCKED, "1|prod|off|coursedog", checklist)
        assert notices(bot) == ["approved"]
        bot.click(REQUESTER, ids.CHECK_LOCKED, "1|prod|off|coursedog", checklist)
        assert bot.settle()

        assert notices(bot) == ["approved", "locked_off"]
        handed = thread_message(bot, 1, "switch merges off by hand")
        assert f"Handed to Coursedog by <@{REQUESTER}>" in str(handed.blocks)
        assert ids.CHECK_LOCKED not in buttons(handed)
        bot.click(APPROVER, ids.CHECK_LOCKED, "1|prod|off|coursedog", checklist)
        assert "already handed this change to Coursedog" in str(bot.responses()[-1]["text"])
        assert notices(bot) == ["approved", "locked_off"]

        # Coursedog switches them off: the bot's read ticks the checklist off.
        set_prod(bot, False, False)
        bot.runtime.worker.run_once(["prod"])
        assert bot.settle()
        assert "merges are off, verified by reading back" in "\n".join(bot.thread(1))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 12, 5, 20, 0, tzinfo=UTC))  # 15:00 in New York


def reminder(bot: Bot, clock: ManualClock) -> Message:
    bot.command(REQUESTER, "schedule prod 2026-12-05 22:00 2h Banner upgrade")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    clock.advance(datetime(2026, 12, 6, 2, 0, tzinfo=UTC) - clock.now())
    bot.tick()
    return thread_message(bot, 1, "starts in about")


def test_a_checklist_opened_before_the_start_is_the_windows_own_switch(
    database_url: str, clock: ManualClock
) -> None:
    with running_bot(database_url, settings_factory=by_hand, clock=clock) as bot:
        remind = reminder(bot, clock)
        assert buttons(remind) == [ids.CHECK_EARLY]
        assert "`prod` is switched by hand" in str(remind.blocks)

        bot.click(STRANGER, ids.CHECK_EARLY, "1|prod", remind)
        assert "Only the requester" in str(bot.responses()[-1]["text"])
        bot.click(REQUESTER, ids.CHECK_EARLY, "1|prod", remind)
        assert bot.settle()
        assert thread_message(bot, 1, "switch merges off by hand")
        with bot.runtime.sessions.begin() as session:
            baseline = session.scalars(select(Baseline)).one()
            assert (baseline.nightly, baseline.realtime, baseline.evidence) == (True, True, None)
        bot.click(REQUESTER, ids.CHECK_EARLY, "1|prod", remind)
        assert "already open" in str(bot.responses()[-1]["text"])

        set_prod(bot, False, False)  # switched off an hour early, through the checklist
        bot.runtime.worker.run_once(["prod"])
        assert bot.settle()
        assert "merges are off, verified by reading back" in "\n".join(bot.thread(1))
        assert state(bot, 1) == WindowState.APPROVED

        clock.advance(HOUR)
        bot.tick()  # the start: nothing more to switch
        assert state(bot, 1) == WindowState.ACTIVE
        clock.advance(2 * HOUR)
        bot.tick()  # the end: the checklist to switch back on what was on before
        assert thread_message(bot, 1, "switch merges back on by hand")
        set_prod(bot, True, True)
        bot.runtime.worker.run_once(["prod"])
        assert bot.settle()
        assert "restored and verified: nightly on, real-time on" in "\n".join(bot.thread(1))
        assert bot.sim.calls("PUT", SCHEDULE) == 0


def test_a_window_cancelled_after_its_early_checklist_is_switched_back(
    database_url: str, clock: ManualClock
) -> None:
    with running_bot(database_url, settings_factory=by_hand, clock=clock) as bot:
        remind = reminder(bot, clock)
        bot.click(REQUESTER, ids.CHECK_EARLY, "1|nowhere", remind)  # no such environment
        assert "does not name" in str(bot.responses()[-1]["text"])
        bot.click(REQUESTER, ids.CHECK_EARLY, "1|prod", remind)
        set_prod(bot, False, False)
        bot.runtime.worker.run_once(["prod"])
        assert bot.settle()

        bot.command(REQUESTER, "cancel MW-1")
        assert bot.settle()

        assert state(bot, 1) == WindowState.CANCELLED
        assert thread_message(bot, 1, "switch merges back on by hand")


def test_the_bot_switches_api_environments_itself_so_nothing_opens_early(
    bot: Bot,
) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-20 22:00 2h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    bot.click(REQUESTER, ids.CHECK_EARLY, "1|prod", bot.card(1))
    assert "switched by the bot at MW-1's start" in str(bot.responses()[-1]["text"])
