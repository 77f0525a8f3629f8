"""Recurring series through the front door, with an injected clock across daylight-saving
changes in America/New_York and America/Chicago."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import parse_settings
from bot.errors import Conflict
from bot.sandbox.slack_api import Message
from bot.services import series_changes, series_feed
from bot.slack import ids
from storage import recurring, windows
from storage.models import AuditEvent, CoursedogNotice
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
from tests.lock_waits import behind_lock

HOUR = timedelta(hours=1)
# The morning the series tests start (see the clock fixture).
NOW = datetime(2026, 10, 24, 16, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def ephemeral(response: Any) -> str:
    assert response.status_code == 200, response.text
    return str(response.json().get("text", ""))


def blocks_text(response: Any) -> str:
    body = response.json()
    return str(body.get("blocks", "")) + str(body.get("text", ""))


def series_card(bot: Bot, number: int) -> Message:
    assert bot.slack.wait_for(lambda: any(c.text.startswith(f"S-{number}:") for c in bot.cards()))
    assert bot.settle()
    return next(c for c in bot.cards() if c.text.startswith(f"S-{number}:"))


def series_thread(bot: Bot, number: int) -> list[str]:
    card = series_card(bot, number)
    return [m.text for m in bot.slack.thread(card.channel, card.ts)]


def approve_series(bot: Bot, number: int, approver: str = APPROVER) -> None:
    bot.click(approver, ids.SERIES_APPROVE, str(number), series_card(bot, number))
    assert bot.settle()


def prod(bot: Bot) -> tuple[bool, bool]:
    school = bot.sim.school("state_u_prod")
    return school.nightly, school.realtime


def audit(bot: Bot) -> list[AuditEvent]:
    with bot.runtime.sessions.begin() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.fixture
def clock() -> ManualClock:
    # Saturday 24 October 2026, 12:00 in New York (EDT): a week before clocks fall back.
    return ManualClock(datetime(2026, 10, 24, 16, 0, tzinfo=UTC))


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as running:
        yield running


def test_weekly_series_approved_once_runs_each_occurrence_across_fall_back(
    bot: Bot, clock: ManualClock
) -> None:
    reply = ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 1h Banner weekly"))
    assert "*S-1* requested" in reply and "every Saturday at 02:30 for 1h" in reply
    # The first two occurrences straddle the end of daylight saving: 02:30 both times.
    assert "Sat 31 Oct 2026 02:30 EDT (UTC-04:00)" in reply
    assert "Sat 7 Nov 2026 02:30 EST (UTC-05:00)" in reply
    card = series_card(bot, 1)
    assert buttons(card) == [ids.SERIES_APPROVE, ids.SERIES_DENY]
    assert "Banner weekly" in str(card.blocks) and "Next occurrences" in str(card.blocks)
    assert bot.tick() == 0  # nothing is scheduled before approval

    approve_series(bot, 1)
    card = series_card(bot, 1)
    assert buttons(card) == [] and f"Approved by <@{APPROVER}>" in str(card.blocks)
    assert "approved by" in series_thread(bot, 1)[-1]

    bot.tick()  # the first occurrence is within the week's lookahead: it becomes MW-1
    occurrence = bot.runtime.windows.get(1)
    assert occurrence.state == "approved" and occurrence.series_id == 1
    assert occurrence.starts_at == datetime(2026, 10, 31, 6, 30, tzinfo=UTC)
    assert occurrence.decided_by == APPROVER
    mw1 = bot.wait_card(1)
    assert "occurrence of series S-1" in str(mw1.blocks) and buttons(mw1) == [ids.CANCEL]
    thread = bot.thread(1)
    assert any("Scheduled as an occurrence of S-1" in t for t in thread)
    assert any("No mail server is configured" in t for t in thread)  # its notice to Coursedog
    assert any("MW-1 scheduled for" in t for t in series_thread(bot, 1))
    assert len(bot.cards()) == 2  # the series' card and MW-1's

    clock.advance(datetime(2026, 10, 31, 5, 30, tzinfo=UTC) - clock.now())
    bot.tick()
    assert "starts in about 1h" in bot.thread(1)[-1]
    clock.advance(HOUR)  # 02:30 EDT
    bot.tick()
    assert prod(bot) == (False, False)
    clock.advance(HOUR)  # 03:30 EDT: the end; the next occurrence comes within the lookahead
    bot.tick()
    assert prod(bot) == (True, True)
    assert bot.runtime.windows.get(1).state == "ended"
    second = bot.runtime.windows.get(2)
    assert second.series_id == 1
    assert second.starts_at == datetime(2026, 11, 7, 7, 30, tzinfo=UTC)  # 02:30 EST
    assert second.ends_at == datetime(2026, 11, 7, 8, 30, tzinfo=UTC)

    listing = blocks_text(bot.command(STRANGER, "list"))
    assert "Recurring series" in listing and "*S-1*" in listing and "MW-2 (approved)" in listing
    with bot.runtime.sessions.begin() as session:
        notices = session.scalars(select(CoursedogNotice.window_id)).all()
    assert sorted(notices) == [1, 2]  # each occurrence told Coursedog on its own


def test_occurrence_in_the_spring_forward_gap_moves_an_hour_and_says_so(
    database_url: str,
) -> None:
    def chicago(base_url: str) -> Any:
        doc = settings_document(base_url)
        doc["defaults"] = {"time_zone": "America/Chicago"}
        return parse_settings(doc)

    clock = ManualClock(datetime(2027, 3, 1, 18, 0, tzinfo=UTC))  # Monday noon in Chicago
    with running_bot(database_url, clock=clock, settings_factory=chicago) as bot:
        reply = ephemeral(bot.command(REQUESTER, "schedule prod every sun 02:30 1h"))
        assert "Sun 7 Mar 2027 02:30 CST (UTC-06:00)" in reply
        assert "Sun 14 Mar 2027 03:30 CDT (UTC-05:00)" in reply
        assert "02:30 does not exist on Sun 14 Mar 2027 in America/Chicago" in reply
        assert "Sun 21 Mar 2027 02:30 CDT (UTC-05:00)" in reply
        approve_series(bot, 1)
        bot.tick()
        assert bot.runtime.windows.get(1).starts_at == datetime(2027, 3, 7, 8, 30, tzinfo=UTC)
        clock.advance(datetime(2027, 3, 8, 18, 0, tzinfo=UTC) - clock.now())
        bot.tick()
        moved = bot.runtime.windows.get(2)
        assert moved.starts_at == datetime(2027, 3, 14, 8, 30, tzinfo=UTC)
        assert moved.ends_at == datetime(2027, 3, 14, 9, 30, tzinfo=UTC)
        assert any("read with the offset before the change: 03:30 CDT" in t for t in bot.thread(2))


def test_an_occurrence_on_the_fall_back_night_takes_the_first_of_the_two_times(
    database_url: str,
) -> None:
    def chicago(base_url: str) -> Any:
        doc = settings_document(base_url)
        doc["defaults"] = {"time_zone": "America/Chicago"}
        doc["series"] = {"lookahead": "2d"}
        return parse_settings(doc)

    clock = ManualClock(datetime(2026, 10, 26, 17, 0, tzinfo=UTC))  # Monday noon in Chicago
    with running_bot(database_url, clock=clock, settings_factory=chicago) as bot:
        ephemeral(bot.command(REQUESTER, "schedule prod every sun 01:30 1h"))
        approve_series(bot, 1)
        bot.restart()  # the plan to create occurrences lives in the ledger, not in memory
        assert bot.tick() == 1  # the plan ran: the first occurrence is over two days ahead
        with pytest.raises(Exception, match="no window MW-1"):
            bot.runtime.windows.get(1)
        clock.advance(datetime(2026, 10, 30, 7, 0, tzinfo=UTC) - clock.now())
        bot.tick()
        fold = bot.runtime.windows.get(1)
        assert fold.starts_at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 CDT
        assert fold.ends_at == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)  # 01:30 CST
        assert any("01:30 happens twice on Sun 1 Nov 2026" in t for t in bot.thread(1))
        clock.advance(datetime(2026, 11, 6, 8, 0, tzinfo=UTC) - clock.now())
        bot.tick()
        assert bot.runtime.windows.get(2).starts_at == datetime(2026, 11, 8, 7, 30, tzinfo=UTC)


def test_skip_by_date_and_by_window_and_refusals(bot: Bot, clock: ManualClock) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 1h"))
    approve_series(bot, 1)
    bot.tick()  # MW-1 on Sat 31 Oct
    bot.wait_card(1)

    reply = ephemeral(bot.command(REQUESTER, "series skip S-1 2026-11-07"))
    assert "on <!date^" in reply and "|Sat 7 Nov 2026 02:30 EST (UTC-05:00)> is skipped" in reply
    assert "already skipped" in ephemeral(bot.command(REQUESTER, "series skip S-1 2026-11-07"))
    not_one = ephemeral(bot.command(REQUESTER, "series skip S-1 2026-11-08"))
    assert "2026-11-08 is not an occurrence of S-1 (every Saturday at 02:30" in not_one
    assert "The next are: Sat 31 Oct 2026 (2026-10-31), Sat 14 Nov 2026" in not_one
    assert "Only the requester" in ephemeral(bot.command(STRANGER, "series skip MW-1"))

    reply = ephemeral(bot.command(APPROVER, "series skip MW-1"))
    assert "MW-1 is cancelled and Coursedog is told" in reply
    assert bot.runtime.windows.get(1).state == "cancelled"
    assert any("was cancelled by" in t for t in bot.thread(1))
    with bot.runtime.sessions.begin() as session:
        events = session.scalars(
            select(CoursedogNotice.event).where(CoursedogNotice.window_id == 1)
        ).all()
    assert sorted(events) == ["approved", "cancelled"]
    assert "Skipped: Sat 31 Oct 2026, Sat 7 Nov 2026" in str(series_card(bot, 1).blocks)

    clock.advance(8 * DAY)  # Sun 1 Nov: neither skipped Saturday gets a window
    bot.tick()
    clock.advance(6 * DAY)
    bot.tick()
    # The next window is the first occurrence after the two skipped ones.
    assert bot.runtime.windows.get(2).starts_at == datetime(2026, 11, 14, 7, 30, tzinfo=UTC)
    with pytest.raises(Exception, match="no window MW-3"):
        bot.runtime.windows.get(3)


def test_a_started_occurrence_is_neither_skipped_nor_moved_and_end_lets_it_run(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 2h Banner"))
    approve_series(bot, 1)
    bot.tick()
    clock.advance(datetime(2026, 10, 31, 7, 0, tzinfo=UTC) - clock.now())  # 03:00 EDT
    bot.tick()
    assert bot.runtime.windows.get(1).state == "active"
    started = "MW-1, the occurrence of S-1 on Sat 31 Oct 2026, has started; `end MW-1` ends it"
    assert started in ephemeral(bot.command(REQUESTER, "series skip MW-1"))
    assert started in ephemeral(bot.command(REQUESTER, "series skip S-1 2026-10-31"))

    reply = ephemeral(bot.command(REQUESTER, "series edit S-1 04:00 1h"))
    assert "S-1 now runs every Saturday at 04:00 for 1h" in reply and "Moved" not in reply
    assert bot.runtime.windows.get(1).ends_at == datetime(2026, 10, 31, 8, 30, tzinfo=UTC)

    reply = ephemeral(bot.command(APPROVER, "end S-1"))
    assert "S-1 ended by" in reply and "no new occurrences" in reply
    assert "MW-1 is running and keeps its end; `end MW-1` ends it now" in reply
    assert prod(bot) == (False, False)
    assert "S-1 has already ended" in ephemeral(bot.command(APPROVER, "series end S-1"))
    assert "has ended, so it cannot be edited" in ephemeral(
        bot.command(REQUESTER, "series edit S-1 05:00 1h")
    )
    assert "has ended, so it has no occurrences to skip" in ephemeral(
        bot.command(REQUESTER, "series skip S-1 2026-11-07")
    )
    clock.advance(2 * HOUR)  # 05:00 EDT: MW-1 reached its own end
    bot.tick()
    assert bot.runtime.windows.get(1).state == "ended" and prod(bot) == (True, True)
    clock.advance(14 * DAY)
    bot.tick()
    with pytest.raises(Exception, match="no window MW-2"):
        bot.runtime.windows.get(2)
    assert "Ended: no new occurrences" in str(series_card(bot, 1).blocks)


def test_edit_moves_occurrences_not_started_and_tells_coursedog(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 1h"))
    approve_series(bot, 1)
    bot.tick()
    assert "already runs every Saturday at 02:30 for 1h" in ephemeral(
        bot.command(REQUESTER, "series edit S-1 02:30 1h")
    )
    assert "Only the requester" in ephemeral(bot.command(STRANGER, "series edit S-1 03:00 2h"))

    reply = ephemeral(bot.command(REQUESTER, "series edit S-1 03:00 until 05:00"))
    assert "S-1 now runs every Saturday 03:00-05:00" in reply
    assert "Moved to the new times: MW-1 (Coursedog is told)" in reply
    moved = bot.runtime.windows.get(1)
    assert (moved.state, moved.starts_at, moved.ends_at) == (
        "approved",
        datetime(2026, 10, 31, 7, 0, tzinfo=UTC),
        datetime(2026, 10, 31, 9, 0, tzinfo=UTC),
    )
    assert any(
        "now runs from <!date^" in t and "|Sat 31 Oct 2026 03:00 EDT" in t for t in bot.thread(1)
    )
    bot.tick()  # the notice that the maintenance moved
    with bot.runtime.sessions.begin() as session:
        bodies = session.scalars(
            select(CoursedogNotice.body).where(CoursedogNotice.event == "moved")
        ).all()
    assert len(bodies) == 1 and "From: Sat 31 Oct 2026 03:00 EDT (UTC-04:00)" in str(bodies[0])

    clock.advance(datetime(2026, 10, 31, 6, 30, tzinfo=UTC) - clock.now())  # the old start
    bot.tick()
    assert prod(bot) == (True, True) and "starts in about 30m" in bot.thread(1)[-1]
    clock.advance(30 * timedelta(minutes=1))
    bot.tick()
    assert prod(bot) == (False, False)
    assert bot.runtime.windows.get(1).state == "active"


def test_an_edit_whose_new_start_has_passed_keeps_that_occurrence(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 1h"))
    approve_series(bot, 1)
    bot.tick()
    clock.advance(datetime(2026, 10, 31, 6, 0, tzinfo=UTC) - clock.now())  # 02:00 EDT
    reply = ephemeral(bot.command(REQUESTER, "series edit S-1 01:00 1h"))
    assert "MW-1 keep their times: their new start has already passed" in reply
    assert bot.runtime.windows.get(1).starts_at == datetime(2026, 10, 31, 6, 30, tzinfo=UTC)


def test_end_cancels_occurrences_not_started(bot: Bot, clock: ManualClock) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod every day 22:00 1h nightly job"))
    approve_series(bot, 1)
    bot.tick()
    assert [bot.runtime.windows.get(n).state for n in range(1, 8)] == ["approved"] * 7
    reply = ephemeral(bot.command(REQUESTER, "end S-1"))
    assert "Cancelled MW-1, MW-2, MW-3, MW-4, MW-5, MW-6, MW-7" in reply
    assert {bot.runtime.windows.get(n).state for n in range(1, 8)} == {"cancelled"}
    clock.advance(10 * DAY)
    bot.tick()
    assert prod(bot) == (True, True) and bot.sim.school("state_u_prod").writes == 0


def test_a_series_is_decided_by_another_approver_and_can_be_denied(bot: Bot) -> None:
    ephemeral(bot.command(APPROVER, "schedule prod first sat 02:30 1d Banner monthly"))
    card = series_card(bot, 1)
    assert "the first Saturday of every month at 02:30 for 1d" in str(card.blocks)
    bot.click(APPROVER, ids.SERIES_APPROVE, "1", card)
    bot.click(STRANGER, ids.SERIES_APPROVE, "1", card)
    assert bot.settle()
    texts = [r["text"] for r in bot.responses()]
    assert any("another approver must approve S-1" in t for t in texts)
    assert any("Only an approver for prod can approve S-1, and you are not one" in t for t in texts)
    bot.click(APPROVER_2, ids.SERIES_DENY, "1", card)
    assert bot.settle()
    assert f"Denied by <@{APPROVER_2}>" in str(series_card(bot, 1).blocks)
    assert any("S-1 was denied" in m.text for m in bot.slack.direct_messages(APPROVER))
    bot.click(APPROVER_2, ids.SERIES_APPROVE, "1", card)
    assert bot.settle()
    assert any("S-1 was already denied" in r["text"] for r in bot.responses())
    assert bot.tick() == 0
    actions = [e.action for e in audit(bot)]
    assert actions == ["series_requested", "series_denied"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule prod every sunn 02:30 1h", "`sunn` is not a weekday"),
        ("schedule prod every 02:30 1h", "`02:30` is not a weekday"),
        ("schedule prod fifth sat 02:30 1h", "Not every month has a fifth one"),
        ("schedule prod penultimate sat 02:30 1h", "`penultimate` is not an ordinal I know"),
        ("schedule prod every sat 24:30 1h", "`24:30` is not a time: hours go from 00 to 23"),
        ("schedule prod every sat 02:30", "Say how long each occurrence lasts"),
        ("schedule prod every sat 02:30 until sun 03:00", "`until` takes a time only"),
        (
            "schedule prod every day 02:30 25h",
            "Occurrences would overlap: the one on Sun 25 Oct 2026",
        ),
        ("schedule prod every sat 02:30 3d", "longer than prod allows (2d)"),
        ("schedule nowhere every sat 02:30 1h", "no environment called `nowhere`"),
        ("series skip S-1 sat", "`sat` is not a date: write it as YYYY-MM-DD"),
        ("series skip S-9 2026-10-31", "There is no series S-9"),
        ("series skip MW-4", "There is no window MW-4"),
        ("series edit S-1", "Say which series and its new times"),
        ("series edit S-1 03:00 2h later", "takes a time and a length only"),
        ("series end", "Say which series to end"),
        ("series pause S-1", "`series pause` is not something I can do"),
        ("status --override because", "goes at the end of `start`, `schedule` or `series edit`"),
        ("start prod 1h --override", "Say why after `--override`"),
    ],
)
def test_bad_series_input_gets_a_specific_message(bot: Bot, text: str, expected: str) -> None:
    assert expected in ephemeral(bot.command(REQUESTER, text))
    assert bot.cards() == []


def test_skip_a_window_that_is_not_an_occurrence(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 1h"))
    assert "MW-1 is not part of a series; `cancel MW-1` withdraws it" in ephemeral(
        bot.command(REQUESTER, "series skip MW-1")
    )


def test_series_list_shows_the_next_occurrences(bot: Bot) -> None:
    assert "No recurring series." in blocks_text(bot.command(STRANGER, "series"))
    ephemeral(bot.command(REQUESTER, "schedule prod,staging every mon,thu 22:00 until 23:30 jobs"))
    text = blocks_text(bot.command(STRANGER, "series list"))
    assert "*S-1* `prod`, `staging` · requested · every Monday and Thursday 22:00-23:30" in text
    assert text.count("next: ") == 3


def test_the_calendar_feed_can_list_future_occurrences_and_blackouts(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 1h Banner weekly"))
    ephemeral(bot.command(REQUESTER, "schedule staging every sun 04:00 1h not approved"))
    approve_series(bot, 1)
    bot.tick()  # MW-1 (Sat 31 Oct) is a window now: the feed shows it as such
    ephemeral(bot.command(APPROVER, "blackout add staging 2026-11-20 until 2026-11-21 Grades"))
    ephemeral(bot.command(REQUESTER, "series skip S-1 2026-11-14"))
    start, end = clock.now(), clock.now() + 28 * DAY
    with bot.runtime.sessions.begin() as session:
        items = series_feed.upcoming(session, bot.runtime.settings, start, end)
        prod_only = series_feed.upcoming(session, bot.runtime.settings, start, end, "prod")
    assert [i.uid for i in items] == ["s-1-20261107", "blackout-b-1", "s-1-20261121"]
    assert items[0].start == datetime(2026, 11, 7, 7, 30, tzinfo=UTC)
    assert [i.uid for i in prod_only] == ["s-1-20261107", "s-1-20261121"]


def test_an_occurrence_started_while_its_skip_waits_is_refused_not_skipped(
    bot: Bot, clock: ManualClock
) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 2h Banner"))
    approve_series(bot, 1)
    bot.tick()  # MW-1 on Sat 31 Oct, approved
    sessions, settings = bot.runtime.sessions, bot.runtime.settings

    def skip() -> None:
        with sessions.begin() as s:
            row = recurring.get_series(s, 1, lock=True)
            assert row is not None
            series_changes.skip(s, settings, row, actor=REQUESTER, day=date(2026, 10, 31), now=NOW)

    with sessions.begin() as s:  # the scheduler starts MW-1 meanwhile
        window = windows.get_window(s, 1, lock=True)
        assert window is not None and window.state == "approved"
        window.state = "active"
        s.flush()
        skipping = behind_lock(s, skip)
    with pytest.raises(
        Conflict, match="MW-1, the occurrence of S-1 on Sat 31 Oct 2026, has started"
    ):
        skipping.result(timeout=10)
    with sessions.begin() as s:
        row = recurring.get_series(s, 1)
        assert row is not None and row.skipped == []


def test_a_series_the_bot_withdrew_says_why_and_mentions_nobody(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", "not_in_channel")
    ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 1h"))
    assert bot.settle()
    assert any("S-1 was withdrawn" in r["text"] for r in bot.responses())
    why = "by sis-maint, because its approval card could not be posted"
    ended = ephemeral(bot.command(APPROVER, "series end S-1"))
    assert f"S-1 has already ended ({why})" in ended and "<@system>" not in ended
    ephemeral(bot.command(REQUESTER, "start prod 1h"))  # a card to press on
    bot.click(APPROVER, ids.SERIES_APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    refused = [r["text"] for r in bot.responses() if "S-1 was already" in r["text"]]
    assert refused == [f":no_entry_sign: S-1 was already ended {why}."]
