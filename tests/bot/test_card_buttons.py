"""The approval card keeps the buttons that apply to its window, through signed requests:
Cancel before the start, Extend 1h and End now while merges are off, nothing once it is over;
the destructive ones carry Block Kit confirm dialogs, and presses obey the same rules as the
commands."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import ConfirmObject
from sqlalchemy import func, select

from bot.config import parse_settings
from bot.slack import ids
from storage.models import AuditEvent
from tests.bot.test_blocks import assert_valid
from tests.harness import (
    APPROVER,
    REQUESTER,
    STRANGER,
    Bot,
    ManualClock,
    buttons,
    running_bot,
    settings_document,
)

HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> ManualClock:
    # Saturday 24 October 2026, 12:00 in New York.
    return ManualClock(datetime(2026, 10, 24, 16, 0, tzinfo=UTC))


def with_registration(base_url: str) -> Any:
    doc = settings_document(base_url)
    doc["blackouts"] = [
        {"name": "Registration opening", "start": "2026-11-09", "end": "2026-11-13"},
    ]
    return parse_settings(doc)


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock, settings_factory=with_registration) as running:
        yield running


def button(card: Any, action_id: str) -> dict[str, Any]:
    (found,) = (
        e
        for block in card.blocks
        if block.get("type") == "actions"
        for e in block["elements"]
        if e["action_id"] == action_id
    )
    return dict(found)


def asks_first(card: Any, action_id: str, question: str) -> None:
    """The button carries a danger confirm dialog Slack accepts, asking ``question``."""
    dialog = button(card, action_id)["confirm"]
    ConfirmObject(**dialog).validate_json()
    assert dialog["style"] == "danger" and dialog["title"]["text"] == question


def answers(bot: Bot) -> list[str]:
    return [str(r.get("text", "")) for r in bot.responses()]


def extensions(bot: Bot) -> int:
    with bot.runtime.sessions.begin() as session:
        stmt = select(func.count()).where(AuditEvent.action == "extended")
        return int(session.scalar(stmt) or 0)


def test_the_card_of_a_scheduled_window_goes_from_cancel_to_extend_and_end_to_none(
    bot: Bot, clock: ManualClock
) -> None:
    bot.command(REQUESTER, "schedule prod 2026-10-24 14:00 1h Banner patch")
    card = bot.wait_card(1)
    assert buttons(card) == [ids.APPROVE, ids.DENY, ids.CANCEL]
    asks_first(card, ids.DENY, "Deny MW-1?")
    asks_first(card, ids.CANCEL, "Cancel MW-1?")
    assert "confirm" not in button(card, ids.APPROVE)

    bot.click(APPROVER, ids.APPROVE, "1", card)
    card = bot.card(1)
    assert_valid(card.blocks)
    assert buttons(card) == [ids.CANCEL]  # approved, not started: only Cancel applies
    asks_first(card, ids.CANCEL, "Cancel MW-1?")

    clock.advance(2 * HOUR)  # 14:00: the start
    bot.tick()
    card = bot.card(1)
    assert bot.runtime.windows.get(1).state == "active"
    assert buttons(card) == [ids.EXTEND_60, ids.END_NOW]
    asks_first(card, ids.END_NOW, "End MW-1 now?")
    assert "confirm" not in button(card, ids.EXTEND_60)

    # Extend 1h on the card goes through the same service as `extend MW-1 1h`.
    shown = button(card, ids.EXTEND_60)["value"]
    bot.click(REQUESTER, ids.EXTEND_60, shown, card)
    ends_at = bot.runtime.windows.get(1).ends_at
    assert ends_at == datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # 15:00 New York, plus 1h
    assert "extended MW-1 by 1h" in bot.thread(1)[-1]
    # The card is redrawn with the new end; a second press of the old one changes nothing.
    assert button(bot.card(1), ids.EXTEND_60)["value"] == f"1@{int(ends_at.timestamp())}"
    bot.click(REQUESTER, ids.EXTEND_60, shown, card)
    assert "was extended meanwhile" in answers(bot)[-1]
    assert extensions(bot) == 1

    # Someone who may not manage the window is refused by the same rule as the command.
    bot.click(STRANGER, ids.END_NOW, "1", bot.card(1))
    assert "Only the requester (<@U0REQUEST1>) or an approver can end MW-1" in answers(bot)[-1]
    assert bot.runtime.windows.get(1).state == "active"

    bot.click(REQUESTER, ids.END_NOW, "1", bot.card(1))
    assert bot.runtime.windows.get(1).state == "ended"
    assert buttons(bot.card(1)) == []  # an ended window's card offers nothing
    school = bot.sim.school("state_u_prod")
    assert (school.nightly, school.realtime) == (True, True)
    # A press of End now on an old copy of the card says why nothing happens.
    bot.click(REQUESTER, ids.END_NOW, "1", card)
    assert "MW-1 is ended, so there is nothing to end" in answers(bot)[-1]


def test_extend_on_the_card_is_refused_past_the_longest_window_and_into_a_blackout(
    bot: Bot, clock: ManualClock
) -> None:
    # prod allows 2 days at most: a window of 47h30m cannot take one more hour.
    bot.command(REQUESTER, "start prod 47h30m Banner upgrade")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    card = bot.card(1)
    bot.click(REQUESTER, ids.EXTEND_60, button(card, ids.EXTEND_60)["value"], card)
    assert "longer than prod allows (2d)" in answers(bot)[-1]
    assert extensions(bot) == 0
    bot.click(REQUESTER, ids.END_NOW, "1", card)

    # A window that ends as registration opens cannot be extended into it.
    clock.advance(timedelta(days=15, hours=12))  # Sunday 8 November, 23:00 in New York
    bot.command(REQUESTER, "start prod 1h Banner fix")
    bot.click(APPROVER, ids.APPROVE, "2", bot.wait_card(2))
    card = bot.card(2)
    bot.click(REQUESTER, ids.EXTEND_60, button(card, ids.EXTEND_60)["value"], card)
    refusal = answers(bot)[-1]
    assert "Extending MW-2 would run into the blackout period Registration opening" in refusal
    assert "nothing changed" in refusal
    assert extensions(bot) == 0
    assert bot.runtime.windows.get(2).ends_at == datetime(2026, 11, 9, 5, 0, tzinfo=UTC)


def test_cancel_and_deny_from_the_card(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod 2026-10-25 22:00 1h")
    card = bot.wait_card(1)
    bot.click(STRANGER, ids.CANCEL, "1", card)
    assert "Only the requester (<@U0REQUEST1>) or an approver can cancel MW-1" in answers(bot)[-1]
    bot.click(REQUESTER, ids.CANCEL, "1", card)
    assert bot.runtime.windows.get(1).state == "cancelled"
    assert buttons(bot.card(1)) == []
    assert "was cancelled by" in bot.thread(1)[-1]

    bot.command(REQUESTER, "schedule prod 2026-10-25 22:00 1h")
    card = bot.wait_card(2)
    bot.deny(REQUESTER, 2, message=card)  # nobody decides on their own request
    assert "You are not an approver for prod" in answers(bot)[-1]
    bot.deny(APPROVER, 2, "vendor slot moved", message=card)
    assert bot.runtime.windows.get(2).state == "denied"
    assert buttons(bot.card(2)) == []
