"""Approvers listed as Slack user groups."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import parse_settings
from bot.run.clients import slack_client
from bot.sandbox.slack_api import SlackStandIn
from bot.services.access import GroupLookupError
from bot.slack import ids
from bot.slack.groups import SlackGroups
from tests.harness import APPROVER_2, REQUESTER, STRANGER, running_bot, settings_document


def group_approvers(base_url: str) -> Any:
    doc = settings_document(base_url)
    doc["approvers"] = ["S0OPSLEADS"]
    return parse_settings(doc)


@pytest.mark.parametrize("member", [True, False])
def test_members_of_an_approver_group_may_approve(database_url: str, member: bool) -> None:
    with running_bot(database_url, settings_factory=group_approvers) as bot:
        bot.slack.groups["S0OPSLEADS"] = [APPROVER_2] if member else [STRANGER]
        bot.command(REQUESTER, "start prod 1h")
        bot.click(APPROVER_2, ids.APPROVE, "1", bot.wait_card(1))
        state = bot.runtime.windows.get(1).state
        assert state == ("active" if member else "requested")
        if not member:
            assert any("not an approver" in r["text"] for r in bot.responses())


def test_a_group_that_cannot_be_read_is_named_in_the_refusal(database_url: str) -> None:
    with running_bot(database_url, settings_factory=group_approvers) as bot:
        bot.command(REQUESTER, "start prod 1h")
        bot.click(APPROVER_2, ids.APPROVE, "1", bot.wait_card(1))
        refusal = bot.responses()[-1]["text"]
        assert "user group S0OPSLEADS could not be read: no_such_subteam" in refusal


def test_membership_is_cached_briefly() -> None:
    slack = SlackStandIn(groups={"S1": ["U1"]})
    now = [0.0]
    groups = SlackGroups(slack_client(slack.token, slack.start()), ttl=300, clock=lambda: now[0])
    try:
        assert groups.members("S1") == {"U1"}
        slack.groups["S1"] = ["U2"]
        now[0] = 299
        assert groups.members("S1") == {"U1"}
        now[0] = 301
        assert groups.members("S1") == {"U2"}
        assert len(slack.calls_to("usergroups.users.list")) == 2
        with pytest.raises(GroupLookupError, match="no_such_subteam"):
            groups.members("S404")
    finally:
        slack.stop()
