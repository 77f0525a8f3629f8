"""The requester's direct messages on a timetable link to the window's thread as requester news
does (bot.slack.requester_dms.with_thread): the reminder before a scheduled start, a request
that expired undecided, and no merge yet a day after the restore. The thread's own copy is left
as it was. Driven through the front door with an injected clock, on each database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.slack_api import Message
from bot.slack import ids
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot

HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)


@pytest.fixture
def clock() -> ManualClock:
    # Saturday 5 December 2026, 10:00 in New York.
    return ManualClock(datetime(2026, 12, 5, 15, 0, tzinfo=UTC))


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as running:
        yield running


def thread_link(bot: Bot, number: int) -> str:
    card = bot.card(number)
    return f"<{bot.slack.permalink(card.channel, card.ts)}|Open the thread>"


def dms_saying(bot: Bot, words: str) -> list[Message]:
    return [m for m in bot.slack.direct_messages(REQUESTER) if words in m.text]


def requested(bot: Bot, text: str, number: int) -> None:
    bot.command(REQUESTER, text)
    bot.wait_card(number)


def approved(bot: Bot, text: str, number: int) -> None:
    requested(bot, text, number)
    bot.click(APPROVER, ids.APPROVE, str(number), bot.card(number))
    assert bot.settle()


def no_permalinks(bot: Bot) -> None:
    bot.slack.fail("chat.getPermalink", "message_not_found", times=100)


def assert_links(bot: Bot, told: list[Message], code: str) -> None:
    """MW-1's message links to MW-1's thread, MW-2's to MW-2's (whichever was sent first);
    the notification text has no emoji code, the message itself keeps it."""
    assert len(told) == 2
    for number, message in enumerate(sorted(told, key=lambda m: "MW-2" in m.text), start=1):
        other = 3 - number
        assert f"MW-{number}" in message.text and f"MW-{other}" not in message.text
        assert message.text.endswith(f" {thread_link(bot, number)}.")
        assert thread_link(bot, other) not in message.text
        assert code not in message.text and code in str(message.blocks)
        assert thread_link(bot, number) in str(message.blocks)


def schedule_two(bot: Bot) -> None:
    approved(bot, "schedule prod 2026-12-05 22:00 1h", 1)
    approved(bot, "schedule staging 2026-12-05 23:00 1h", 2)


def test_the_reminder_before_the_start_links_to_its_thread(bot: Bot, clock: ManualClock) -> None:
    schedule_two(bot)
    clock.advance(11 * HOUR)  # 21:00: an hour before MW-1
    bot.tick()
    clock.advance(HOUR)  # 22:00: MW-1 starts, an hour before MW-2
    bot.tick()
    assert_links(bot, dms_saying(bot, "starts in about 1h"), ":alarm_clock:")
    for number in (1, 2):  # the thread's copy is as it was: it is the thread
        [reminder] = [t for t in bot.thread(number) if "starts in about" in t]
        assert "Open the thread" not in reminder and "Its thread is in" not in reminder
    bot.tick()
    assert len(dms_saying(bot, "starts in about")) == 2  # each once


def test_an_expired_request_links_to_its_thread(bot: Bot, clock: ManualClock) -> None:
    requested(bot, "schedule prod tomorrow 02:30 1h", 1)
    requested(bot, "schedule staging tomorrow 03:30 1h", 2)
    clock.advance(17 * HOUR + 30 * MIN)  # Sunday 03:30 local: both starts passed undecided
    bot.tick()
    assert_links(bot, dms_saying(bot, "expired"), ":zzz:")


def end_both_and_wait_a_day(bot: Bot, clock: ManualClock) -> None:
    approved(bot, "start prod 1h", 1)
    approved(bot, "start staging 1h", 2)
    clock.advance(30 * MIN)
    bot.command(REQUESTER, "end MW-1")
    bot.command(REQUESTER, "end MW-2")
    assert bot.settle()
    clock.advance(26 * HOUR)  # merge_watch.give_up_after
    bot.tick()


def test_no_merge_yet_after_the_restore_links_to_its_thread(bot: Bot, clock: ManualClock) -> None:
    end_both_and_wait_a_day(bot, clock)
    told = dms_saying(bot, "no nightly or manual merge")
    assert_links(bot, told, ":hourglass_flowing_sand:")
    for number in (1, 2):
        last = bot.thread(number)[-1]
        assert "no nightly or manual merge" in last and "Open the thread" not in last


def test_without_a_link_the_reminder_says_where_the_thread_is(bot: Bot, clock: ManualClock) -> None:
    no_permalinks(bot)
    approved(bot, "schedule prod 2026-12-05 22:00 1h", 1)
    clock.advance(11 * HOUR)
    bot.tick()
    [reminder] = dms_saying(bot, "starts in about 1h")
    assert reminder.text.endswith(f" Its thread is in <#{bot.card(1).channel}>.")
    assert "Open the thread" not in reminder.text


def test_without_a_link_an_expiry_says_where_the_thread_is(bot: Bot, clock: ManualClock) -> None:
    no_permalinks(bot)
    requested(bot, "schedule prod tomorrow 02:30 1h", 1)
    clock.advance(16 * HOUR + 30 * MIN)
    bot.tick()
    [expired] = dms_saying(bot, "expired")
    assert expired.text.endswith(f" Its thread is in <#{bot.card(1).channel}>.")


def test_without_a_link_no_merge_yet_says_where_the_thread_is(bot: Bot, clock: ManualClock) -> None:
    no_permalinks(bot)
    end_both_and_wait_a_day(bot, clock)
    told = dms_saying(bot, "no nightly or manual merge")
    assert len(told) == 2
    for message in told:
        assert message.text.endswith(f" Its thread is in <#{bot.card(1).channel}>.")
        assert "Open the thread" not in message.text


def test_without_a_card_the_reminder_reaches_the_requester_once(
    bot: Bot, clock: ManualClock
) -> None:
    # A request whose card was never posted: its thread is the requester's direct messages.
    starts = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # 22:00 in New York
    view = bot.runtime.windows.request(
        requester=REQUESTER,
        environments=["prod"],
        duration=HOUR,
        reason="x",
        starts_at=starts,
        ends_at=starts + HOUR,
    ).view
    bot.runtime.windows.approve(window_id=view.id, approver=APPROVER)
    assert bot.settle()
    clock.advance(11 * HOUR)  # 21:00: an hour before the start
    bot.tick()
    [reminder] = dms_saying(bot, "starts in about 1h")
    assert "Open the thread" not in reminder.text and "Its thread is in" not in reminder.text
