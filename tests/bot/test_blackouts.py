"""Blackout periods and overrides, and overlapping windows, through the front door."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import parse_settings
from bot.slack import ids
from storage.models import AuditEvent
from tests.bot.test_blocks import assert_valid
from tests.harness import (
    APPROVALS,
    APPROVER,
    APPROVER_2,
    CALENDAR_TOKEN,
    REQUESTER,
    STRANGER,
    Bot,
    ManualClock,
    buttons,
    running_bot,
    settings_document,
)

DAY = timedelta(days=1)
REGISTRATION = (
    "Registration opening (Mon 9 Nov 2026 00:00 EST (UTC-05:00) to "
    "Sat 14 Nov 2026 00:00 EST (UTC-05:00), all environments)"
)


def ephemeral(response: Any) -> str:
    assert response.status_code == 200, response.text
    return str(response.json().get("text", ""))


def blocks_text(response: Any) -> str:
    body = response.json()
    return str(body.get("blocks", "")) + str(body.get("text", ""))


def with_registration(base_url: str) -> Any:
    doc = settings_document(base_url)
    doc["blackouts"] = [
        {"name": "Registration opening", "start": "2026-11-09", "end": "2026-11-13"},
        {
            "name": "Grades due",
            "start": "2026-12-14 08:00",
            "end": "2026-12-14 18:00",
            "environments": ["staging"],
            "time_zone": "America/Chicago",
        },
    ]
    return parse_settings(doc)


@pytest.fixture
def clock() -> ManualClock:
    # Saturday 24 October 2026, 12:00 in New York.
    return ManualClock(datetime(2026, 10, 24, 16, 0, tzinfo=UTC))


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock, settings_factory=with_registration) as running:
        yield running


def audit(bot: Bot, action: str) -> list[AuditEvent]:
    with bot.runtime.sessions.begin() as session:
        stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.scalars(stmt))


def test_a_request_inside_a_configured_period_is_refused_naming_it(bot: Bot) -> None:
    text = ephemeral(bot.command(REQUESTER, "schedule prod 2026-11-10 22:00 1h Banner fix"))
    assert f"This window falls in the blackout period {REGISTRATION}" in text
    assert "an approver can ask for it with `--override <reason>`" in text
    # Ending exactly when the period begins does not overlap it.
    ephemeral(bot.command(REQUESTER, "schedule prod 2026-11-08 22:00 until 00:00 Banner fix"))
    assert [c.text.split(":")[0] for c in bot.cards()] == ["MW-1"]
    # A period for staging alone does not hold prod back.
    ephemeral(bot.command(REQUESTER, "schedule prod 2026-12-14 10:00 1h"))
    refused = ephemeral(bot.command(REQUESTER, "schedule staging 2026-12-14 10:00 1h"))
    assert "blackout period Grades due (Mon 14 Dec 2026 08:00 CST" in refused
    assert len(bot.cards()) == 2


def test_override_only_by_an_approver_with_a_reason_recorded_and_shown(bot: Bot) -> None:
    request = "schedule prod 2026-11-10 22:00 1h Banner fix --override registrar agreed, INC-7"
    refused = ephemeral(bot.command(REQUESTER, request))
    assert "Only an approver for prod can override a blackout period, and you are not one" in (
        refused
    )
    assert bot.cards() == []

    reply = ephemeral(bot.command(APPROVER, request))
    assert "*MW-1* requested" in reply and "overridden by" in reply
    card = bot.wait_card(1)
    assert f"Inside the blackout period {REGISTRATION}: overridden by <@{APPROVER}>" in str(
        card.blocks
    )
    assert "because registrar agreed, INC-7" in str(card.blocks)
    (event,) = audit(bot, "blackout_overridden")
    assert event.actor == APPROVER and event.window_id == 1
    assert event.data["reason"] == "registrar agreed, INC-7"
    assert event.data["blackouts"] == ["config:Registration opening"]
    assert bot.runtime.windows.get(1).reason == "Banner fix"
    # Four eyes still hold: another approver approves it.
    bot.click(APPROVER_2, ids.APPROVE, "1", card)
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "approved"
    history = blocks_text(bot.command(STRANGER, "history"))
    assert "blackout overridden" in history and "registrar agreed" in history


def test_an_override_with_nothing_to_override_is_refused(bot: Bot) -> None:
    text = ephemeral(bot.command(APPROVER, "start prod 1h --override just because"))
    assert "Nothing to override: no blackout period covers that time" in text
    assert bot.cards() == []


def test_a_series_inside_a_period_is_refused_or_overridden_for_its_occurrences(
    bot: Bot, clock: ManualClock
) -> None:
    refused = ephemeral(bot.command(REQUESTER, "schedule prod every tue 22:00 1h"))
    assert f"The occurrence on Tue 10 Nov 2026 falls in the blackout period {REGISTRATION}" in (
        refused
    )
    reply = ephemeral(
        bot.command(APPROVER, "schedule prod every tue 22:00 1h --override vendor's only slot")
    )
    assert "*S-1* requested" in reply
    card = bot.cards()[-1]
    assert "overridden by" in str(card.blocks) and "because vendor's only slot" in str(card.blocks)
    bot.click(APPROVER_2, ids.SERIES_APPROVE, "1", card)
    assert bot.settle()
    clock.advance(datetime(2026, 11, 4, 12, 0, tzinfo=UTC) - clock.now())
    bot.tick()
    inside = next(
        bot.runtime.windows.get(n)
        for n in range(1, 4)
        if bot.runtime.windows.get(n).starts_at == datetime(2026, 11, 11, 3, 0, tzinfo=UTC)
    )
    assert inside.override_by == APPROVER and inside.override_reason == "vendor's only slot"
    assert "Inside the blackout period Registration opening" in str(bot.card(inside.id).blocks)


def test_a_period_added_later_skips_the_occurrences_inside_it(bot: Bot, clock: ManualClock) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod every sat 02:30 1h"))
    bot.click(APPROVER, ids.SERIES_APPROVE, "1", bot.cards()[-1])
    assert bot.settle()
    bot.tick()  # MW-1 on Sat 31 Oct
    refused = ephemeral(bot.command(REQUESTER, "blackout add 2026-11-06 until 2026-11-08 Audit"))
    assert "Only an approver for prod, staging, sandbox can add a blackout period" in refused
    reply = ephemeral(
        bot.command(APPROVER, "blackout add prod 2026-10-31 until 2026-11-08 Year-end audit")
    )
    assert "B-1 added by" in reply and "Year-end audit (Sat 31 Oct 2026 00:00 EDT" in reply
    assert "Already planned inside it, left as they are: MW-1, S-1 (Sat 7 Nov)" in reply
    posted = [m.text for m in bot.slack.messages.values() if m.channel == APPROVALS]
    assert any("B-1 added by" in t for t in posted)
    clock.advance(datetime(2026, 10, 31, 6, 30, tzinfo=UTC) - clock.now())
    bot.tick()
    assert bot.runtime.windows.get(1).state == "active"  # already approved: it goes ahead
    clock.advance(datetime(2026, 10, 31, 12, 0, tzinfo=UTC) - clock.now())
    bot.tick()
    with pytest.raises(Exception, match="no window MW-2"):
        bot.runtime.windows.get(2)
    card = next(c for c in bot.cards() if c.text.startswith("S-1:"))
    thread = [m.text for m in bot.slack.thread(card.channel, card.ts)]
    assert any(
        "The occurrence of S-1 on <!date^" in t
        and "|Sat 7 Nov 2026 02:30 EST" in t
        and "Year-end audit" in t
        for t in thread
    )
    assert "Skipped: Sat 7 Nov 2026" in str(card.blocks)
    clock.advance(7 * DAY)
    bot.tick()
    assert bot.runtime.windows.get(2).starts_at == datetime(2026, 11, 14, 7, 30, tzinfo=UTC)


def test_blackout_list_and_remove(bot: Bot) -> None:
    ephemeral(bot.command(APPROVER, "blackout add 2026-11-20 17:00 until 2026-11-21 Grades"))
    listing = blocks_text(bot.command(STRANGER, "blackout list"))
    assert "configuration file · *Registration opening*" in listing
    # A list leaves out the year when it is this year, in Slack's date and in its fallback.
    assert "*B-1* · *Grades* · <!date^1795212000^{day_divider_pretty} {time}|" in listing
    assert "|Fri 20 Nov 17:00 EST (UTC-05:00)>" in listing
    assert "|Sun 22 Nov 00:00 EST (UTC-05:00)>" in listing
    assert "Only an approver" in ephemeral(bot.command(STRANGER, "blackout remove B-1"))
    assert "B-1 removed by" in ephemeral(bot.command(APPROVER_2, "blackout remove b1"))
    assert "B-1 was already removed by" in ephemeral(bot.command(APPROVER, "blackout remove B-1"))
    assert "There is no blackout period B-7" in ephemeral(
        bot.command(APPROVER, "blackout remove B-7")
    )
    assert "*B-1*" not in blocks_text(bot.command(STRANGER, "blackouts"))
    assert [e.action for e in audit(bot, "blackout_added")] == ["blackout_added"]
    assert [e.actor for e in audit(bot, "blackout_removed")] == [APPROVER_2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("blackout add", "Say when and what"),
        ("blackout add 2026-11-20 Grades", "Say when the period ends with `until`"),
        ("blackout add 2026-11-20 until 2026-11-21", "Give the period a name"),
        ("blackout add 2026-11-31 until 2026-12-01 x", "`2026-11-31` is not a date"),
        ("blackout add 2026-11-20 until tomorrow x", "`tomorrow` is not a date"),
        ("blackout add qa 2026-11-20 until 2026-11-21 x", "no environment called `qa`"),
        ("blackout add 2026-11-21 until 2026-11-20 x", "must end after it starts"),
        ("blackout add 2026-10-01 until 2026-10-02 x", "That period is already over"),
        ("blackout add 2026-11-20 25:00 until 2026-11-21 x", "`25:00` is not a time"),
        ("blackout remove Registration", "Say which period: `blackout remove B-3`"),
        ("blackout pause", "`blackout pause` is not something I can do"),
    ],
)
def test_bad_blackout_input_gets_a_specific_message(bot: Bot, text: str, expected: str) -> None:
    assert expected in ephemeral(bot.command(APPROVER, text))


def test_a_request_that_runs_into_a_period_added_after_it_cannot_be_approved(
    bot: Bot,
) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod 2026-11-20 22:00 1h"))
    card = bot.wait_card(1)
    ephemeral(bot.command(APPROVER, "blackout add 2026-11-20 until 2026-11-20 Census day"))
    bot.click(APPROVER_2, ids.APPROVE, "1", card)
    assert bot.settle()
    assert any(
        "MW-1 would fall in the blackout period Census day" in r["text"] for r in bot.responses()
    )
    assert bot.runtime.windows.get(1).state == "requested"
    assert buttons(bot.card(1)) == [ids.APPROVE, ids.DENY, ids.CANCEL]


def test_overlapping_windows_are_allowed_and_their_cards_say_so(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "schedule prod 2026-10-25 22:00 2h first"))
    reply = ephemeral(bot.command(REQUESTER, "schedule prod,staging 2026-10-25 23:00 2h second"))
    assert "Overlaps MW-1 on `prod`" in reply
    second = str(bot.wait_card(2).blocks)
    assert "Overlaps MW-1 on `prod` (<!date^" in second
    assert "|Sun 25 Oct 2026 22:00 EDT (UTC-04:00)> to <!date^" in second
    assert "merges stay off until the last of them ends" in second
    ephemeral(bot.command(REQUESTER, "schedule staging 2026-10-26 02:00 1h third"))
    assert "Overlaps" not in str(bot.wait_card(3).blocks)
    ephemeral(bot.command(REQUESTER, "cancel MW-1"))
    bot.runtime.notifier.refresh_card(bot.runtime.windows.get(2))
    assert "Overlaps" not in str(bot.card(2).blocks)  # a cancelled window no longer counts


def test_a_pile_of_overlapping_requests_is_named_five_at_a_time(bot: Bot) -> None:
    for n in range(1, 8):  # seven requests nobody has decided, all on prod from approval
        reply = ephemeral(bot.command(REQUESTER, f"start prod 2h patch {n}"))
    assert "Overlaps MW-1 on `prod` (requested); MW-2" in reply
    assert "MW-5 on `prod` (requested); and 1 more." in reply and "MW-6" not in reply
    assert_valid(bot.wait_card(7).blocks)
    # A window already over, and one that starts after the others end, do not count.
    ephemeral(bot.command(REQUESTER, "cancel MW-1"))
    later = ephemeral(bot.command(REQUESTER, "schedule prod 2026-10-27 09:00 1h later"))
    assert "Overlaps" not in later
    reply = ephemeral(bot.command(REQUESTER, "start prod 2h patch 9"))
    assert "Overlaps MW-2 on `prod`" in reply and "and 1 more." in reply


def with_group_cutover(base_url: str) -> Any:
    """A period in force now over a group (and one of its members again, once)."""
    doc = settings_document(base_url, groups={"non-prod": ["staging", "sandbox"]})
    doc["blackouts"] = [
        {
            "name": "Cutover",
            "start": "2026-10-24",
            "end": "2026-10-25",
            "environments": ["non-prod", "staging"],
        }
    ]
    return parse_settings(doc)


def test_a_configured_period_over_a_group_holds_each_member_back_as_if_listed(
    database_url: str, clock: ManualClock
) -> None:
    cutover = (
        "Cutover (Sat 24 Oct 2026 00:00 EDT (UTC-04:00) to Mon 26 Oct 2026 00:00 EDT "
        "(UTC-04:00), staging, sandbox)"
    )
    with running_bot(database_url, clock=clock, settings_factory=with_group_cutover) as bot:
        for target in ("staging", "sandbox", "non-prod", "prod,sandbox"):
            refused = ephemeral(bot.command(REQUESTER, f"start {target} 1h Banner fix"))
            assert f"falls in the blackout period {cutover}" in refused, target
        assert bot.cards() == []
        assert "*MW-1* requested" in ephemeral(bot.command(REQUESTER, "start prod 1h Banner fix"))
        bot.wait_card(1)
        overridden = ephemeral(bot.command(APPROVER, "start sandbox 1h fix --override INC-9"))
        assert "*MW-2* requested" in overridden
        (event,) = audit(bot, "blackout_overridden")
        assert event.data["blackouts"] == ["config:Cutover"]

        # Shown as the environments it covers, as a period added over the group is.
        ephemeral(bot.command(APPROVER, "blackout add non-prod 2026-11-20 until 2026-11-21 Grades"))
        listing = blocks_text(bot.command(STRANGER, "blackout list"))
        assert "configuration file · *Cutover* ·" in listing and "*B-1* · *Grades* ·" in listing
        assert listing.count("· staging, sandbox") == 2
        bot.open_home(STRANGER)
        home = str(bot.slack.home[STRANGER]["blocks"])
        assert "*Cutover* (configuration file) · staging, sandbox" in home
        assert "*Grades* (B-1) · staging, sandbox" in home
        for env, listed in (("sandbox", True), ("staging", True), ("prod", False)):
            feed = bot.get(f"/calendar/{CALENDAR_TOKEN}/{env}.ics").text
            assert ("Cutover" in feed) is listed, env


# Monday 14 December 2026, 12:00 in New York: the next Sunday is the 20th.
MID_DECEMBER = datetime(2026, 12, 14, 17, 0, tzinfo=UTC)
FREEZE = "blackout add staging 2026-12-19 until 2026-12-21 Staging freeze"


def test_an_occurrence_the_bot_skipped_for_a_period_no_longer_holds_an_edit_back(
    database_url: str,
) -> None:
    clock = ManualClock(MID_DECEMBER)
    with running_bot(database_url, clock=clock, settings_factory=with_registration) as bot:
        ephemeral(bot.command(REQUESTER, "schedule staging every sun 12:00 1h weekly sync"))
        added = ephemeral(bot.command(APPROVER, FREEZE))
        assert "Already planned inside it, left as they are: S-1 (Sun 20 Dec)" in added
        bot.click(APPROVER, ids.SERIES_APPROVE, "1", bot.cards()[-1])
        assert bot.settle()
        bot.tick()  # the occurrence of Sun 20 Dec falls in the period: the bot skips it
        with pytest.raises(Exception, match="no window MW-1"):
            bot.runtime.windows.get(1)
        (skip,) = audit(bot, "occurrence_skipped")
        assert skip.actor == "system" and "Staging freeze" in skip.detail

        reply = ephemeral(bot.command(REQUESTER, "series edit S-1 13:00 1h"))
        assert "S-1 now runs every Sunday at 13:00 for 1h" in reply
        # The skipped occurrence is gone, so there is no period left to override.
        refused = ephemeral(bot.command(APPROVER, "series edit S-1 14:00 1h --override vendor"))
        assert "Nothing to override: no blackout period covers that time" in refused
        assert audit(bot, "blackout_overridden") == []
        clock.advance(7 * DAY)
        bot.tick()
        assert bot.runtime.windows.get(1).starts_at == datetime(2026, 12, 27, 18, 0, tzinfo=UTC)


def test_an_occurrence_skipped_by_hand_no_longer_holds_an_edit_back(database_url: str) -> None:
    clock = ManualClock(MID_DECEMBER)
    with running_bot(database_url, clock=clock, settings_factory=with_registration) as bot:
        ephemeral(bot.command(REQUESTER, "schedule staging every sun 12:00 1h weekly sync"))
        bot.click(APPROVER, ids.SERIES_APPROVE, "1", bot.cards()[-1])
        assert bot.settle()
        bot.tick()  # MW-1 on Sun 20 Dec
        assert "MW-1 is cancelled" in ephemeral(bot.command(REQUESTER, "series skip MW-1"))
        added = ephemeral(bot.command(APPROVER, FREEZE))
        assert "Already planned inside it" not in added  # MW-1 is cancelled, its date skipped

        reply = ephemeral(bot.command(REQUESTER, "series edit S-1 13:00 1h"))
        assert "S-1 now runs every Sunday at 13:00 for 1h" in reply
        assert bot.runtime.windows.get(1).state == "cancelled"
        # A later occurrence inside a period still holds it back.
        ephemeral(bot.command(APPROVER, "blackout add staging 2027-01-03 until 2027-01-03 Audit"))
        refused = ephemeral(bot.command(REQUESTER, "series edit S-1 15:00 1h"))
        assert "The occurrence on Sun 3 Jan 2027 falls in the blackout period Audit" in refused
