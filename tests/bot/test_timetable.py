"""Windows on a timetable, driven through the front door with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.config import parse_settings
from bot.slack import ids
from bot.slack.text import list_time, slack_time
from tests.harness import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    STRANGER,
    Bot,
    ManualClock,
    buttons,
    running_bot,
    settings_document,
)

HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)


def ephemeral(response: Any) -> str:
    assert response.status_code == 200, response.text
    return str(response.json().get("text", ""))


@pytest.fixture
def clock() -> ManualClock:
    # Saturday 5 December 2026, 10:00 in New York.
    return ManualClock(datetime(2026, 12, 5, 15, 0, tzinfo=UTC))


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as running:
        yield running


def policy_bot(database_url: str, clock: ManualClock, **defaults: Any) -> Any:
    """A bot whose default policy is changed (the simulator URL is filled in by the harness)."""

    def settings_for(base_url: str) -> Any:
        doc = settings_document(base_url)
        doc["defaults"] = defaults
        return parse_settings(doc)

    return running_bot(database_url, clock=clock, settings_factory=settings_for)


def prod(bot: Bot) -> tuple[bool, bool]:
    school = bot.sim.school("state_u_prod")
    return school.nightly, school.realtime


def approve(bot: Bot, number: int) -> None:
    bot.wait_card(number)
    bot.click(APPROVER, ids.APPROVE, str(number), bot.card(number))
    assert bot.settle()


def thread_messages(bot: Bot, number: int) -> list[Any]:
    card = bot.card(number)
    return bot.slack.thread(card.channel, card.ts)


def test_scheduled_window_reminds_starts_and_restores_by_itself(
    bot: Bot, clock: ManualClock
) -> None:
    reply = ephemeral(bot.command(REQUESTER, "schedule prod 2026-12-05 22:00 4h Banner upgrade"))
    assert "Sat 5 Dec 2026 22:00 EST (UTC-05:00)" in reply
    assert "Sun 6 Dec 2026 02:00 EST (UTC-05:00)" in reply
    card = bot.wait_card(1)
    assert slack_time(datetime(2026, 12, 6, 3, 0, tzinfo=UTC), "America/New_York") in str(
        card.blocks
    )
    approve(bot, 1)
    assert bot.runtime.windows.get(1).state == "approved"
    assert prod(bot) == (True, True)
    assert "go off at" in bot.thread(1)[-1]
    assert bot.tick() == 1  # the notice to Coursedog (drafted: no mail server here)
    assert "No mail server is configured" in bot.thread(1)[-1]

    clock.advance(11 * HOUR)  # 21:00 local: one hour before the start
    assert bot.tick() == 1
    assert "starts in about 1h" in bot.thread(1)[-1]
    told = [m.text for m in bot.slack.direct_messages(REQUESTER)]
    assert len(told) == 2 and "approved by" in told[0] and "starts in about 1h" in told[1]

    clock.advance(HOUR)  # 22:00: the start
    bot.tick()
    assert prod(bot) == (False, False)
    assert bot.runtime.windows.get(1).state == "active"
    assert any("has started" in t for t in bot.thread(1))
    assert "switched off and verified" in bot.thread(1)[-1]

    clock.advance(3 * HOUR + 45 * MIN)  # 01:45: fifteen minutes before the end
    bot.tick()
    reminder = thread_messages(bot, 1)[-1]
    assert "ends at" in reminder.text
    assert buttons(reminder) == [ids.EXTEND_30, ids.EXTEND_60, ids.REENABLE]

    clock.advance(15 * MIN)  # 02:00: the end; auto re-enable is the default policy
    bot.tick()
    assert prod(bot) == (True, True)
    assert bot.runtime.windows.get(1).state == "ended"
    assert "restored and verified" in bot.thread(1)[-1]
    assert bot.tick() == 0
    told = [m.text for m in bot.slack.direct_messages(REQUESTER)][2:]
    assert len(told) == 2 and "are off, verified" in told[0] and "is back to" in told[1]


def test_without_auto_reenable_it_nags_escalates_and_stops_when_someone_acts(
    database_url: str, clock: ManualClock
) -> None:
    with policy_bot(
        database_url, clock, auto_reenable=False, nag_every="30m", escalate_after=2
    ) as bot:
        ephemeral(bot.command(REQUESTER, "start prod 1h"))
        approve(bot, 1)
        assert prod(bot) == (False, False)
        clock.advance(HOUR)
        bot.tick()
        overdue = thread_messages(bot, 1)[-1]
        assert "Time to re-enable" in overdue.text and "(reminder 1)" in overdue.text
        assert buttons(overdue) == [ids.EXTEND_30, ids.EXTEND_60, ids.REENABLE]
        assert "Overdue" in str(bot.card(1).blocks)
        assert prod(bot) == (False, False)
        assert bot.slack.direct_messages(APPROVER) == []

        clock.advance(30 * MIN)
        bot.tick()
        assert "(reminder 2)" in bot.thread(1)[-1] and "Escalated to" in bot.thread(1)[-1]
        assert len(bot.slack.direct_messages(APPROVER)) == 1
        assert len(bot.slack.direct_messages(APPROVER_2)) == 1
        card = bot.card(1)
        link = f"<{bot.slack.permalink(card.channel, card.ts)}|Open the thread>."
        assert bot.slack.direct_messages(APPROVER)[0].text.endswith(link)

        clock.advance(30 * MIN)
        bot.tick()
        assert "(reminder 3)" in bot.thread(1)[-1]
        assert len(bot.slack.direct_messages(APPROVER)) == 1  # escalated once per end time

        bot.click(REQUESTER, ids.REENABLE, "1", bot.card(1))
        assert bot.settle()
        assert prod(bot) == (True, True)
        assert "Overdue" not in str(bot.card(1).blocks)
        posted = len(bot.thread(1))
        clock.advance(HOUR)
        bot.tick()
        assert len(bot.thread(1)) == posted


def test_undecided_scheduled_request_expires_and_the_requester_is_told(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod tomorrow 02:30 1h"))
    bot.wait_card(1)
    clock.advance(16 * HOUR + 30 * MIN)  # Sunday 02:30 local
    bot.tick()
    assert bot.runtime.windows.get(1).state == "expired"
    assert buttons(bot.card(1)) == []
    assert "expired" in bot.slack.direct_messages(REQUESTER)[-1].text
    bot.click(APPROVER, ids.APPROVE, "1", bot.card(1))
    assert bot.settle()
    assert any("already expired" in r["text"] for r in bot.responses())
    assert prod(bot) == (True, True)


def test_undecided_start_now_request_expires_after_its_span(bot: Bot, clock: ManualClock) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 1h"))
    bot.wait_card(1)
    clock.advance(HOUR)
    bot.tick()
    assert bot.runtime.windows.get(1).state == "expired"
    assert bot.sim.school("state_u_prod").writes == 0


def test_extend_moves_the_end_and_every_pending_reminder(bot: Bot, clock: ManualClock) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 1h"))
    approve(bot, 1)
    assert "MW-1 extended by 1h" in ephemeral(bot.command(REQUESTER, "extend MW-1 1h"))
    assert "extended MW-1 by 1h" in bot.thread(1)[-1]
    assert bot.tick() == 2  # the notices of the approval and of the extension
    posted = len(bot.thread(1))

    clock.advance(45 * MIN)  # the old reminder time
    bot.tick()
    clock.advance(15 * MIN)  # the old end
    bot.tick()
    assert len(bot.thread(1)) == posted and prod(bot) == (False, False)

    clock.advance(45 * MIN)  # 15 minutes before the new end
    bot.tick()
    reminder = thread_messages(bot, 1)[-1]
    assert buttons(reminder) == [ids.EXTEND_30, ids.EXTEND_60, ids.REENABLE]
    bot.click(REQUESTER, ids.EXTEND_30, "1", reminder)
    assert bot.settle()
    assert "extended MW-1 by 30m" in bot.thread(1)[-1]

    clock.advance(15 * MIN)  # the previous end: nothing
    bot.tick()
    assert prod(bot) == (False, False)
    clock.advance(30 * MIN)  # the new end
    bot.tick()
    assert prod(bot) == (True, True)


def test_extend_and_cancel_refusals(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 1h"))
    approve(bot, 1)
    assert "Only the requester" in ephemeral(bot.command(STRANGER, "extend MW-1 1h"))
    assert "longer than prod allows" in ephemeral(bot.command(REQUESTER, "extend MW-1 2d"))
    assert "has started; `end MW-1`" in ephemeral(bot.command(REQUESTER, "cancel MW-1"))
    ephemeral(bot.command(REQUESTER, "end MW-1"))
    assert bot.settle()
    assert "ended, so it cannot be extended" in ephemeral(bot.command(REQUESTER, "extend MW-1 1h"))
    assert "Say by how much: `extend MW-1 1h`" in ephemeral(bot.command(REQUESTER, "extend MW-1"))
    assert "Say which window and by how much" in ephemeral(bot.command(REQUESTER, "extend 1h"))


def test_an_extend_reply_names_the_window_asked_about_and_the_new_end(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 1h"))
    approve(bot, 1)
    ephemeral(bot.command(REQUESTER, "start staging 1h"))
    approve(bot, 2)
    ends_at = bot.runtime.windows.get(2).ends_at
    spelled = ephemeral(bot.command(REQUESTER, "extend MW-2 2 hours"))
    assert "Write the duration as one word: `extend MW-2 2h`" in spelled
    assert "MW-12" not in spelled and bot.runtime.windows.get(2).ends_at == ends_at
    assert "`extend MW-2 1h30m`" in ephemeral(bot.command(REQUESTER, "extend mw2 1 hour 30 min"))
    assert "Say by how much: `extend MW-2 1h`" in ephemeral(
        bot.command(REQUESTER, "extend MW-2 a bit longer")
    )

    done = ephemeral(bot.command(REQUESTER, "extend MW-2 2h"))
    new_end = ends_at + 2 * HOUR
    assert done.startswith(":heavy_plus_sign: MW-2 extended by 2h; it now ends at <!date^")
    assert f"<!date^{int(new_end.timestamp())}^" in done


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule prod 2026-12-05 09:00 1h", "in the past"),
        ("schedule prod 2027-06-05 09:00 1h", "more than 90d ahead"),
        ("schedule prod 2026-12-06 09:00 until 08:00 x", None),
        ("schedule prod sat 02:30 3d", "longer than prod allows (2d)"),
        ("schedule prod", "Say when"),
        ("schedule nowhere sat 02:30 1h", "no environment called `nowhere`"),
    ],
)
def test_schedule_refusals_are_specific(bot: Bot, text: str, expected: str | None) -> None:
    reply = ephemeral(bot.command(REQUESTER, text))
    if expected is None:  # "until 08:00" after 09:00 is the next morning: accepted
        assert "MW-1" in reply
    else:
        assert expected in reply and bot.cards() == []


def schedule_and_approve(bot: Bot, text: str, number: int) -> None:
    assert f"MW-{number}" in ephemeral(bot.command(REQUESTER, text))
    approve(bot, number)


@pytest.mark.parametrize("variant", ["plain", "b-cancelled", "a-extended"])
def test_overlapping_windows_never_re_enable_early(
    bot: Bot, clock: ManualClock, variant: str
) -> None:
    clock.advance(-6 * HOUR)  # 04:00 local
    schedule_and_approve(bot, "schedule prod today 10:00 until 11:00 A", 1)
    schedule_and_approve(bot, "schedule prod today 10:30 until 12:00 B", 2)
    if variant == "b-cancelled":
        ephemeral(bot.command(REQUESTER, "cancel MW-2"))
    if variant == "a-extended":
        ephemeral(bot.command(REQUESTER, "extend MW-1 1h30m"))  # A now ends 12:30
    clock.advance(6 * HOUR)
    bot.tick()
    assert prod(bot) == (False, False)
    clock.advance(30 * MIN)
    bot.tick()
    assert prod(bot) == (False, False)
    clock.advance(30 * MIN)  # 11:00
    bot.tick()
    assert prod(bot) == ((True, True) if variant == "b-cancelled" else (False, False))
    clock.advance(HOUR)  # 12:00
    bot.tick()
    assert prod(bot) == ((False, False) if variant == "a-extended" else (True, True))
    clock.advance(30 * MIN)  # 12:30
    bot.tick()
    assert prod(bot) == (True, True)
    assert bot.sim.school("state_u_prod").writes == 2


def test_restart_in_the_middle_of_an_active_window_writes_nothing_again(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "start prod,staging 2h"))
    approve(bot, 1)
    writes = bot.sim.calls("PUT", "integrationSchedule")
    bot.restart()
    bot.runtime.worker.run_once()
    assert bot.sim.calls("PUT", "integrationSchedule") == writes
    clock.advance(2 * HOUR)
    bot.tick()
    assert prod(bot) == (True, True)
    assert bot.sim.school("state_u_staging").nightly is True


def test_catch_up_after_downtime_folds_stale_reminders(bot: Bot, clock: ManualClock) -> None:
    schedule_and_approve(bot, "schedule prod 2026-12-05 22:00 4h", 1)
    bot.tick()  # the notice to Coursedog, due at approval
    before = len(bot.thread(1))
    clock.advance(15 * HOUR + 50 * MIN)  # 01:50 local: the reminder, start and end reminder passed
    bot.tick()
    new = bot.thread(1)[before:]
    assert not any("starts in about" in t for t in new)
    # One late notice, not a burst: the stale reminders are folded into it.
    assert sum("Late" in t for t in new) == 1 and "has started" in new[0]
    assert not any("ends at" in t for t in new)
    assert prod(bot) == (False, False)
    clock.advance(10 * MIN)  # the end still happens on time
    bot.tick()
    assert prod(bot) == (True, True)


def test_window_whose_whole_time_passed_during_downtime_is_missed(
    bot: Bot, clock: ManualClock
) -> None:
    schedule_and_approve(bot, "schedule prod 2026-12-05 22:00 1h", 1)
    clock.advance(20 * HOUR)
    bot.tick()
    assert bot.runtime.windows.get(1).state == "expired"
    assert "whole time passed" in bot.thread(1)[-1]
    assert bot.sim.school("state_u_prod").writes == 0


def test_watchdog_switches_off_again_what_was_turned_on_by_hand(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    approve(bot, 1)
    bot.sim.set_school("state_u_prod", {"nightly": True})
    bot.runtime.worker.watch()
    assert prod(bot) == (False, False)
    assert "switched back on during the window" in bot.thread(1)[-1]


def test_watchdog_reports_unexplained_outages_once_and_never_touches_them(bot: Bot) -> None:
    def channel_notices() -> list[str]:
        return [m.text for m in bot.cards() if "no maintenance window explains it" in m.text]

    bot.runtime.worker.watch()
    bot.runtime.worker.watch()
    assert len(channel_notices()) == 1 and "`sandbox`" in channel_notices()[0]
    assert bot.sim.school("state_u_sandbox").writes == 0
    bot.sim.set_school("state_u_sandbox", {"nightly": True})
    bot.runtime.worker.watch()
    bot.sim.set_school("state_u_sandbox", {"nightly": False})
    bot.runtime.worker.watch()
    assert len(channel_notices()) == 2


def test_card_warns_when_a_window_covers_the_nightly_merge(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod 2026-12-05 22:00 4h overnight"))
    assert "covers Coursedog's nightly merge (01:30-03:00 America/New_York)" in str(
        bot.wait_card(1).blocks
    )
    ephemeral(bot.command(REQUESTER, "start prod 1h daytime"))
    assert "nightly merge" not in str(bot.wait_card(2).blocks)


def test_a_window_ended_early_shows_when_it_ended_on_its_card_in_lists_and_at_home(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h Banner patch"))
    approve(bot, 1)
    planned = bot.runtime.windows.get(1).ends_at
    clock.advance(30 * MIN)
    ephemeral(bot.command(REQUESTER, "end MW-1"))
    assert bot.settle()
    ended, zone = clock.now(), bot.runtime.windows.get(1).time_zone

    card = str(bot.card(1).blocks)
    assert f"*Ended*\\n{slack_time(ended, zone)}" in card
    assert f"planned for {slack_time(planned, zone)}" in card
    listing = str(bot.command(STRANGER, "list recent").json()["blocks"])
    now = clock.now()
    listed = f"→ {list_time(ended, zone, now)} (planned end {list_time(planned, zone, now)})"
    assert listed in listing
    bot.open_home(STRANGER)
    home = str(bot.slack.home[STRANGER]["blocks"]).split("Recently ended")[1]
    assert listed in home


def test_a_window_the_bot_ended_at_its_scheduled_time_says_so_and_mentions_nobody(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod 2026-12-05 22:00 1h Banner upgrade"))
    approve(bot, 1)
    ephemeral(bot.command(REQUESTER, "start staging 1h patch"))
    approve(bot, 2)
    ephemeral(bot.command(REQUESTER, "end MW-2"))  # a person ends this one
    clock.advance(datetime(2026, 12, 6, 3, 0, tzinfo=UTC) - clock.now())  # 22:00: the start
    bot.tick()
    clock.advance(HOUR)  # the end: auto re-enable is the default policy
    bot.tick()
    assert bot.runtime.windows.get(1).state == "ended" and prod(bot) == (True, True)
    assert bot.settle()

    card = str(bot.card(1).blocks)
    assert "Ended · Approved by" in card and "ended at its scheduled time" in card
    assert f"ended by <@{REQUESTER}>" in str(bot.card(2).blocks)
    listing = str(bot.command(STRANGER, "list recent").json()["blocks"])
    assert "ended at its scheduled time" in listing and f"ended by <@{REQUESTER}>" in listing
    bot.open_home(STRANGER)
    home = str(bot.slack.home[STRANGER]["blocks"]).split("Recently ended")[1]
    assert "*MW-1*" in home and "ended at its scheduled time" in home
    history = str(bot.command(STRANGER, "history").json()["blocks"])
    assert "ended · MW-1 · at its scheduled time" in history
    for shown in (card, listing, home, history):
        assert "<@system>" not in shown
