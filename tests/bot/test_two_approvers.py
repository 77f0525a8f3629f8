"""Two-person rules: an environment that needs two approvers, neither the requester, through
signed requests; presses at once never switch twice nor count one person twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import parse_settings
from bot.errors import ConfigError
from bot.slack import ids
from storage.models import AuditEvent
from tests import invariants
from tests.bot.test_races import TIMES, at_once
from tests.harness import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    Bot,
    ManualClock,
    buttons,
    running_bot,
    settings_document,
)

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
APPROVER_3 = "U0APPROVE3"
SCHOOLS = {"prod": "state_u_prod", "staging": "state_u_staging", "sandbox": "state_u_sandbox"}


def two_on_prod(url: str) -> Any:
    """prod needs two approvers; staging and sandbox one. The requester may approve too, but
    never their own window."""
    doc = settings_document(url, approvers=[APPROVER, APPROVER_2, APPROVER_3, REQUESTER])
    doc["environments"]["prod"]["approvals_required"] = 2
    return parse_settings(doc)


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    with running_bot(database_url, clock=ManualClock(T0), settings_factory=two_on_prod) as b:
        yield b


def audit(bot: Bot, action: str) -> list[tuple[str, str]]:
    with bot.runtime.sessions.begin() as s:
        stmt = select(AuditEvent.actor, AuditEvent.detail).where(AuditEvent.action == action)
        return [tuple(row) for row in s.execute(stmt).all()]  # type: ignore[misc]


def answered(bot: Bot, fragment: str) -> int:
    return sum(fragment in str(r.get("text", "")) for r in bot.responses())


def card_text(bot: Bot, number: int) -> str:
    return str(bot.card(number).blocks)


def check(bot: Bot) -> None:
    with bot.runtime.sessions.begin() as s:
        invariants.check(s, bot.sim, SCHOOLS)


def test_the_second_approval_switches_and_the_card_shows_who_and_how_many(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h Banner patch")
    card = bot.wait_card(1)
    assert "Needs 2 approvers, not the requester" in card_text(bot, 1)
    assert "Approved by nobody yet (0 of 2); 2 more approvals needed" in card_text(bot, 1)

    assert bot.click(APPROVER, ids.APPROVE, "1", card).status_code == 200
    assert bot.settle()
    prod = bot.sim.school("state_u_prod")
    assert (prod.nightly, prod.realtime, prod.writes) == (True, True, 0)
    assert bot.runtime.windows.get(1).state == "requested"
    assert f"Approved by <@{APPROVER}> (1 of 2); 1 more approval needed" in card_text(bot, 1)
    # still waiting for a decision
    assert buttons(bot.card(1)) == [ids.APPROVE, ids.DENY, ids.CANCEL]
    assert "needs 1 more approval from another approver" in bot.thread(1)[-1]
    listed = str(bot.command(REQUESTER, "list").json())
    assert "*MW-1* `prod` · requested (1 of 2 approvals)" in listed
    assert "nothing is switched until then" in bot.thread(1)[-1]

    assert bot.click(APPROVER_2, ids.APPROVE, "1", card).status_code == 200
    assert bot.settle()
    assert (prod.nightly, prod.realtime, prod.writes) == (False, False, 1)
    view = bot.runtime.windows.get(1)
    assert (view.state, view.decided_by, view.approved_by) == (
        "active",
        APPROVER_2,
        (APPROVER, APPROVER_2),
    )
    shown = card_text(bot, 1)
    assert f"Approved by <@{APPROVER}> and <@{APPROVER_2}>" in shown
    assert "more approval" not in shown
    assert buttons(bot.card(1)) == [ids.EXTEND_60, ids.END_NOW]
    assert any(
        f"Approved by <@{APPROVER}> and <@{APPROVER_2}>. Switching" in t for t in bot.thread(1)
    )
    assert audit(bot, "approval_added") == [(APPROVER, "approval 1 of 2")]
    assert audit(bot, "approved") == [(APPROVER_2, "approval 2 of 2")]
    check(bot)


@pytest.mark.parametrize(
    ("second", "refusal"),
    [
        (APPROVER, "You already approved MW-1; it needs 1 more approval from another approver"),
        (REQUESTER, "You requested MW-1, so another approver must approve it."),
    ],
    ids=["the same approver again", "the requester, an approver too"],
)
def test_a_second_press_that_cannot_count_is_refused(bot: Bot, second: str, refusal: str) -> None:
    bot.command(REQUESTER, "start prod 1h")
    card = bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1", card)
    bot.click(second, ids.APPROVE, "1", card)
    assert bot.settle()
    assert answered(bot, refusal) == 1
    view = bot.runtime.windows.get(1)
    assert (view.state, view.approved_by) == ("requested", (APPROVER,))
    assert bot.sim.school("state_u_prod").writes == 0
    assert len(audit(bot, "approval_added")) == 1 and audit(bot, "approved") == []


def test_an_approver_may_still_deny_after_one_approval(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h")
    card = bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1", card)
    bot.deny(APPROVER_2, 1, message=card)
    assert bot.settle()
    view = bot.runtime.windows.get(1)
    assert (view.state, view.decided_by) == ("denied", APPROVER_2)
    assert f"Denied by <@{APPROVER_2}>" in card_text(bot, 1)
    assert bot.sim.school("state_u_prod").writes == 0
    check(bot)


def test_a_window_over_environments_with_different_rules_needs_the_strictest(bot: Bot) -> None:
    bot.command(REQUESTER, "start staging 1h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "active"  # staging alone needs one

    bot.command(REQUESTER, "start staging,sandbox,prod 1h")
    card = bot.wait_card(2)
    bot.click(APPROVER, ids.APPROVE, "2", card)
    assert bot.settle()
    assert bot.runtime.windows.get(2).state == "requested"
    assert bot.sim.school("state_u_sandbox").writes == 0
    bot.click(APPROVER_3, ids.APPROVE, "2", card)
    assert bot.settle()
    assert bot.runtime.windows.get(2).state == "active"
    assert bot.sim.school("state_u_prod").writes == 1
    check(bot)


def test_a_scheduled_window_waits_for_both_before_it_is_approved(
    bot: Bot,
) -> None:
    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h")
    card = bot.wait_card(1)
    bot.click(APPROVER_2, ids.APPROVE, "1", card)
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "requested"
    bot.click(APPROVER_3, ids.APPROVE, "1", card)
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "approved"
    assert "go off at" in bot.thread(1)[-1]


def test_two_approvers_at_once_switch_once_and_both_count(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h")
    card = bot.wait_card(1)
    people = [APPROVER, APPROVER_2] * (TIMES // 2)
    statuses = at_once(lambda n: bot.click(people[n], ids.APPROVE, "1", card, wait=False))
    assert statuses == [200] * TIMES
    assert bot.settle()
    view = bot.runtime.windows.get(1)
    assert view.state == "active"
    assert sorted(view.approved_by) == sorted([APPROVER, APPROVER_2])
    assert len(audit(bot, "approval_added")) == 1 and len(audit(bot, "approved")) == 1
    assert bot.sim.school("state_u_prod").writes == 1
    assert sum("Switching merges off" in t for t in bot.thread(1)) == 1
    refused = (
        answered(bot, "You already approved MW-1")
        + answered(bot, "MW-1 was already active")
        + answered(bot, "at the same moment")
    )
    assert refused == TIMES - 2
    check(bot)


def test_one_approver_ten_times_at_once_is_one_approval(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h")
    card = bot.wait_card(1)
    statuses = at_once(lambda n: bot.click(APPROVER, ids.APPROVE, "1", card, wait=False))
    assert statuses == [200] * TIMES
    assert bot.settle()
    view = bot.runtime.windows.get(1)
    assert (view.state, view.approved_by) == ("requested", (APPROVER,))
    assert len(audit(bot, "approval_added")) == 1 and audit(bot, "approved") == []
    assert answered(bot, "You already approved MW-1") + answered(bot, "at the same moment") == 9
    assert bot.sim.school("state_u_prod").writes == 0
    assert sum("(1 of 2)" in t for t in bot.thread(1)) == 1


def test_help_says_which_environments_need_two_approvers(bot: Bot) -> None:
    text = str(bot.command(REQUESTER, "help").json()["blocks"])
    assert "windows up to 2d; 2 approvers, not the requester" in text
    assert "windows up to 3d; 2 approvers" not in text  # staging needs one
    start = str(bot.command(REQUESTER, "help start").json()["blocks"])
    assert "merges go off at the second approval" in start


def test_a_rule_no_one_could_meet_is_refused_naming_the_key() -> None:
    doc = settings_document("http://127.0.0.1:9", approvers=[APPROVER])
    doc["environments"]["prod"]["approvals_required"] = 2
    with pytest.raises(ConfigError, match=r"environments\.prod\.approvals_required is 2, but prod"):
        parse_settings(doc)
    doc = settings_document("http://127.0.0.1:9", defaults={"approvals_required": 4})
    with pytest.raises(
        ConfigError, match=re.escape("[defaults] approvals_required: must be at most 3, not 4")
    ):
        parse_settings(doc)
    # A user group's size is not known from the file: it is allowed.
    doc = settings_document("http://127.0.0.1:9", approvers=["S0GROUP123"])
    doc["defaults"] = {"approvals_required": 3}
    assert parse_settings(doc).window_policy(["prod", "staging"]).approvals_required == 3


def series_card(bot: Bot, number: int) -> Any:
    assert bot.slack.wait_for(lambda: any(c.text.startswith(f"S-{number}:") for c in bot.cards()))
    assert bot.settle()
    return next(c for c in bot.cards() if c.text.startswith(f"S-{number}:"))


def test_a_series_on_prod_needs_two_approvers_and_its_occurrences_carry_both(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod every sat 02:30 1h Banner weekly")
    card = series_card(bot, 1)
    assert "Approved by nobody yet (0 of 2)" in str(card.blocks)
    bot.click(APPROVER, ids.SERIES_APPROVE, "1", card)
    bot.click(APPROVER, ids.SERIES_APPROVE, "1", card)
    bot.click(REQUESTER, ids.SERIES_APPROVE, "1", card)
    assert bot.settle()
    assert answered(bot, "You already approved S-1; it needs 1 more approval") == 1
    assert answered(bot, "You asked for it, so another approver must approve S-1") == 1
    card = series_card(bot, 1)
    assert f"Approved by <@{APPROVER}> (1 of 2)" in str(card.blocks)
    assert buttons(card) == [ids.SERIES_APPROVE, ids.SERIES_DENY]
    assert bot.tick() == 0  # nothing is scheduled before the second approval
    assert audit(bot, "series_approval_added") == [(APPROVER, "S-1: approval 1 of 2")]

    bot.click(APPROVER_2, ids.SERIES_APPROVE, "1", card)
    assert bot.settle()
    card = series_card(bot, 1)
    assert f"Approved by <@{APPROVER}> and <@{APPROVER_2}>" in str(card.blocks)
    assert buttons(card) == []
    bot.tick()  # the first occurrence becomes MW-1, approved as its series was
    occurrence = bot.runtime.windows.get(1)
    assert occurrence.state == "approved"
    assert occurrence.approved_by == (APPROVER, APPROVER_2)
    assert f"Approved by <@{APPROVER}> and <@{APPROVER_2}>" in card_text(bot, 1)
