"""A schedule the bot cannot read with certainty is never taken for "off": it stops and asks."""

from __future__ import annotations

import pytest

from bot.domain.states import WindowState
from bot.slack import ids
from storage.models import Window
from tests.harness import APPROVER, REQUESTER, Bot

SCHEDULE = "integrationSchedule"


def window_state(bot: Bot, number: int) -> str:
    with bot.runtime.sessions.begin() as session:
        window = session.get(Window, number)
        assert window is not None
        return window.state


def start_and_approve(bot: Bot, text: str = "start prod 2h Banner patch") -> None:
    bot.command(REQUESTER, text)
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()


@pytest.mark.parametrize(
    ("answer", "shown", "said"),
    [
        (
            {"syncType": "weekly", "nightlyStartTime": "01:30"},
            '`{"syncType": "weekly"}`',
            "syncType is 'weekly', a value the bot does not know",
        ),
        ({"nightlyStartTime": "01:30"}, "`{}`", "syncType is missing"),
    ],
)
def test_an_unknown_schedule_at_the_start_writes_nothing_and_asks_a_person(
    bot: Bot, answer: dict[str, object], shown: str, said: str
) -> None:
    bot.sim.set_school("state_u_prod", {"schedule_answer": answer})

    start_and_approve(bot)

    assert bot.sim.calls("PUT", SCHEDULE) == 0
    assert bot.sim.school("state_u_prod").schedule_answer == answer  # untouched
    thread = "\n".join(bot.thread(1))
    assert shown in thread and said in thread
    assert "wrote nothing and will not guess whether merges run" in thread
    assert "needs a person" in thread
    assert "no merge schedule was on" not in thread
    assert window_state(bot, 1) == WindowState.FAILED

    # Told once, however many passes read it.
    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()
    assert "\n".join(bot.thread(1)).count("will not guess") == 1

    # Once Coursedog answers with a schedule the bot knows, it switches off and recovers.
    bot.sim.set_school("state_u_prod", {"schedule_answer": None})
    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()
    school = bot.sim.school("state_u_prod")
    assert (school.nightly, school.realtime) == (False, False)
    assert window_state(bot, 1) == WindowState.ACTIVE


def test_an_unknown_schedule_during_the_window_is_reported_even_though_it_was_off(
    bot: Bot,
) -> None:
    start_and_approve(bot)
    assert window_state(bot, 1) == WindowState.ACTIVE
    bot.sim.set_school("state_u_prod", {"schedule_answer": {"syncType": "hourly"}})

    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()

    assert bot.sim.calls("PUT", SCHEDULE) == 1  # only the switch-off
    assert '`{"syncType": "hourly"}`' in "\n".join(bot.thread(1))
    assert window_state(bot, 1) == WindowState.FAILED


def test_an_unknown_schedule_at_the_end_is_not_restored_over(bot: Bot) -> None:
    start_and_approve(bot)
    bot.sim.set_school("state_u_prod", {"schedule_answer": {"syncType": "paused"}})

    bot.command(REQUESTER, "end MW-1")
    assert bot.settle()

    assert bot.sim.calls("PUT", SCHEDULE) == 1  # the switch-off; no restore was written
    thread = "\n".join(bot.thread(1))
    assert "could not restore the schedule" in thread and '`{"syncType": "paused"}`' in thread
    assert "set it back to nightly on, real-time on" in thread

    bot.sim.set_school("state_u_prod", {"schedule_answer": None})
    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()
    school = bot.sim.school("state_u_prod")
    assert (school.nightly, school.realtime) == (True, True)
    assert "restored and verified" in "\n".join(bot.thread(1))
