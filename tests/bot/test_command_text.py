"""Text from Slack is decoded once: the ledger holds what was typed, each output escapes it."""

from __future__ import annotations

import pytest

from bot.slack import ids
from bot.slack.text import command_text
from tests.harness import APPROVER, REQUESTER, Bot


def reason_on_card(bot: Bot, number: int) -> str:
    """The mrkdwn of the card's reason field, as posted to Slack."""
    for block in bot.card(number).blocks:
        for field in [*block.get("fields", []), block.get("text") or {}]:
            text = str(field.get("text", ""))
            if text.startswith("*Reason*\n"):
                return text.removeprefix("*Reason*\n")
    raise AssertionError("the card shows no reason")


def test_typed_ampersand_and_brackets_are_escaped_once_on_the_card_and_sent_as_typed(
    bot: Bot,
) -> None:
    reply = bot.command(REQUESTER, "start prod 2h Q&A <b>")  # Slack sends Q&amp;A &lt;b&gt;
    assert reply.status_code == 200 and "MW-1" in reply.json()["text"]
    bot.wait_card(1)
    assert bot.runtime.windows.get(1).reason == "Q&A <b>"
    assert reason_on_card(bot, 1) == "Q&amp;A &lt;b&gt;"  # Slack shows it as Q&A <b>
    bot.click(APPROVER, ids.APPROVE, "1")
    comments = bot.sim.school("state_u_prod").comments
    assert comments and "(Q&A <b>)" in comments[0] and "&amp;" not in comments[0]


def test_a_typed_entity_is_kept_as_typed(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h keep &lt; and &amp; as typed")
    bot.wait_card(1)
    assert bot.runtime.windows.get(1).reason == "keep &lt; and &amp; as typed"
    assert reason_on_card(bot, 1) == "keep &amp;lt; and &amp;amp; as typed"


def test_slack_markup_in_the_text_becomes_what_slack_shows(bot: Bot) -> None:
    sent = (
        "start prod 2h ask <@U0APPROVE1|alex> re <https://kb.example.edu/42|KB &amp; 42> &lt;b&gt;"
    )
    bot.command(REQUESTER, sent, sent=True)
    bot.wait_card(1)
    reason = "ask @alex re KB & 42 (https://kb.example.edu/42) <b>"
    assert bot.runtime.windows.get(1).reason == reason
    assert (
        reason_on_card(bot, 1) == "ask @alex re KB &amp; 42 (https://kb.example.edu/42) &lt;b&gt;"
    )


def test_the_form_keeps_its_text_as_typed(bot: Bot) -> None:
    """Plain text inputs are not entity-escaped by Slack, so the form's text is not decoded."""
    bot.submit_form(REQUESTER, envs=["prod"], length="1h", reason="Q&A <b> &amp; more")
    bot.wait_card(1)
    assert bot.runtime.windows.get(1).reason == "Q&A <b> &amp; more"
    assert reason_on_card(bot, 1) == "Q&amp;A &lt;b&gt; &amp;amp; more"
    bot.click(APPROVER, ids.APPROVE, "1")
    assert "(Q&A <b> &amp; more)" in bot.sim.school("state_u_prod").comments[0]


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("Q&amp;A &lt;b&gt;", "Q&A <b>"),
        ("x &amp;lt; y &amp;amp; z", "x &lt; y &amp; z"),
        ("&quot;quoted&quot;", "&quot;quoted&quot;"),  # only the three Slack escapes
        ("<@U1|alex> <@U2> <#C1|ops> <#C2>", "@alex @U2 #ops #C2"),
        (
            "<!here> <!channel|channel> <!subteam^S1|@dbas> <!subteam^S2>",
            "@here @channel @dbas @S2",
        ),
        ("<!date^1765000000^{date}|Dec 5>", "Dec 5"),
        ("<https://x.edu/a?b=1&amp;c=2|KB &amp; 42>", "KB & 42 (https://x.edu/a?b=1&c=2)"),
        (
            "<https://x.edu> <http://x.edu|x.edu> <mailto:a@b.edu|a@b.edu>",
            "https://x.edu x.edu a@b.edu",
        ),
        ("a < b > c", "a < b > c"),  # not from Slack, but never lost
    ],
)
def test_command_text_reads_what_slack_sends(sent: str, typed: str) -> None:
    assert command_text(sent) == typed
