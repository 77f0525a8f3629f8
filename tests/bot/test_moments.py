"""Each moment shown once: Slack's date in each reader's zone; the environment's own time beside
it, compactly, on the card and the requester's confirmation only where the reader's clock
reads otherwise; lists leave out this year; plain text keeps one absolute form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.domain.states import WindowState
from bot.slack.blocks import render_card, render_confirmation
from bot.slack.people import REMEMBER_SECONDS, SlackPeople
from bot.slack.text import list_time, moment, slack_time
from tests.bot.test_blocks import LABELS, NOW, view
from tests.harness import APPROVALS, REQUESTER, STRANGER, Bot, ManualClock, running_bot

CHICAGO = "America/Chicago"
DATE = re.compile(r"<!date\^(\d+)\^([^|>]*)\|([^>]*)>")
START = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)  # 16:00 in Chicago


def dates(text: str) -> list[tuple[int, str, str]]:
    """Every Slack date in ``text``: (UNIX seconds, tokens, fallback)."""
    return [(int(s), tokens, fallback) for s, tokens, fallback in DATE.findall(text)]


def test_a_moment_is_slacks_date_with_one_plain_fallback() -> None:
    assert dates(slack_time(START, CHICAGO)) == [
        (
            int(START.timestamp()),
            "{date_short_pretty} {time}",
            "Sat 5 Dec 2026 16:00 CST (UTC-06:00)",
        )
    ]


def test_lists_leave_out_the_year_only_when_it_is_this_year_where_the_window_is() -> None:
    (this,) = dates(list_time(START, CHICAGO, NOW))
    assert this == (
        int(START.timestamp()),
        "{day_divider_pretty} {time}",
        "Sat 5 Dec 16:00 CST (UTC-06:00)",
    )
    next_year = datetime(2027, 1, 8, 15, 0, tzinfo=UTC)
    assert dates(list_time(next_year, CHICAGO, NOW))[0][2] == "Fri 8 Jan 2027 09:00 CST (UTC-06:00)"
    # 03:00 UTC on 1 January is still the old year in Chicago.
    new_year_utc = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    assert "2026" not in dates(list_time(new_year_utc, CHICAGO, NOW))[0][2]


@pytest.mark.parametrize(
    ("reader", "added"),
    [
        (CHICAGO, False),
        ("America/Winnipeg", False),  # another name, the same clock
        ("America/New_York", True),
        ("Europe/Berlin", True),
        (None, True),  # unknown: the bot cannot tell, so it says
    ],
)
def test_the_environments_time_is_added_only_where_the_readers_clock_differs(
    reader: str | None, added: bool
) -> None:
    text = moment(START, CHICAGO, reader)
    assert len(dates(text)) == 1 and text.startswith(slack_time(START, CHICAGO))
    assert text.endswith(" (Sat 5 Dec 16:00 CST, America/Chicago)") is added
    assert text == slack_time(START, CHICAGO) or added


def test_a_clock_that_differs_only_in_summer_is_added_only_then() -> None:
    # Phoenix keeps UTC-07:00: like Denver in winter, an hour apart in summer.
    winter, summer = START, datetime(2026, 7, 1, 18, 0, tzinfo=UTC)
    assert moment(winter, "America/Denver", "America/Phoenix") == slack_time(
        winter, "America/Denver"
    )
    assert "(Wed 1 Jul 12:00 MDT, America/Denver)" in moment(
        summer, "America/Denver", "America/Phoenix"
    )


def card_times(blocks: list[dict[str, Any]]) -> str:
    fields = blocks[1]["fields"]
    return "\n".join(f["text"] for f in fields if f["text"].startswith(("*Start*", "*End")))


def test_the_card_shows_each_moment_once_and_the_environments_time_where_it_differs() -> None:
    active = view(WindowState.ACTIVE)
    same = card_times(render_card(active, LABELS, NOW, reader_zone=CHICAGO))
    assert len(dates(same)) == 2 and "UTC" not in DATE.sub("", same) and "America/" not in same
    apart = card_times(render_card(active, LABELS, NOW, reader_zone="Europe/London"))
    assert len(dates(apart)) == 2
    assert "(Sat 5 Dec 16:00 CST, America/Chicago)" in apart
    assert "(Sat 5 Dec 18:00 CST, America/Chicago)" in apart
    ended = replace(active, state=WindowState.ENDED, ended_at=START + timedelta(minutes=30))
    text = card_times(render_card(ended, LABELS, NOW, reader_zone=None))
    assert "*Ended*" in text and "16:30 CST, America/Chicago" in text


def test_the_confirmation_shows_each_moment_once() -> None:
    scheduled = view(WindowState.APPROVED)
    known = render_confirmation(scheduled, APPROVALS, reader_zone=CHICAGO)
    assert len(dates(known)) == 2 and "America/Chicago" not in known and " = " not in known
    unknown = render_confirmation(scheduled, APPROVALS)
    assert "from " + moment(START, CHICAGO, None) in unknown


class Users:
    """A Web API client that answers users.info from a table, counting the calls."""

    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        self.users = users
        self.calls = 0

    def users_info(self, *, user: str) -> dict[str, Any]:
        self.calls += 1
        if user not in self.users:
            raise SlackApiError("user_not_found", {"ok": False, "error": "user_not_found"})
        return {"ok": True, "user": self.users[user]}


def test_people_look_a_zone_up_once_and_remember_it_for_a_while() -> None:
    client = Users(
        {
            "U1": {"name": "riley", "tz": "America/Chicago", "profile": {"real_name": "Riley"}},
            "U2": {"name": "sam", "tz": "Mars/Olympus_Mons"},
        }
    )
    clock = [0.0]
    people = SlackPeople(client, monotonic=lambda: clock[0])  # type: ignore[arg-type]
    assert people.known_zone("U1") is None and client.calls == 0  # known_zone never asks
    assert people.zone("U1") == CHICAGO and people.name("U1") == "Riley (@riley)"
    assert people.known_zone("U1") == CHICAGO and client.calls == 1
    assert people.zone("U2") is None  # a zone this machine does not know is no zone
    assert people.zone("U9") is None and people.name("U9") == "Slack user U9"
    assert client.calls == 3  # a failed look-up is remembered too
    assert people.zone("api:servicenow") is None and client.calls == 3  # nobody Slack knows
    clock[0] = REMEMBER_SECONDS + 1
    assert people.known_zone("U1") is None
    assert people.zone("U1") == CHICAGO and client.calls == 4


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    clock = ManualClock(datetime(2026, 12, 5, 15, 0, tzinfo=UTC))  # 10:00 in New York
    with running_bot(database_url, clock=clock) as running:
        running.slack.zones[STRANGER] = "America/Los_Angeles"
        yield running


def start_field(bot: Bot, number: int) -> str:
    return card_times(bot.wait_card(number).blocks)


def test_through_the_front_door_the_requesters_zone_decides(bot: Bot) -> None:
    # prod is in New York, like the requester: the card shows Slack's dates alone.
    first = bot.command(REQUESTER, "schedule prod 2026-12-05 22:00 1h").json()["text"]
    assert "(Sat 5 Dec 22:00 EST, America/New_York)" in first  # not looked up yet: said
    assert "America/" not in start_field(bot, 1)
    again = bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 1h").json()["text"]
    assert len(dates(again)) == 2 and "America/New_York" not in again  # looked up for the card

    # Someone in Los Angeles sees prod's own time beside each moment of their card.
    bot.command(STRANGER, "schedule prod 2026-12-07 22:00 1h")
    assert "(Mon 7 Dec 22:00 EST, America/New_York)" in start_field(bot, 3)
    assert [c.method for c in bot.slack.calls].count("users.info") == 2  # once a person
