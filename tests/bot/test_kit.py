"""Message arguments: blocks people see, and a notification text with no emoji codes."""

from __future__ import annotations

import json
import re

import pytest

from bot.slack import ids
from bot.slack.kit import SECTION_TEXT, message, section
from bot.slack.text import without_emoji
from tests.bot.test_notices import approve, bot_with, notice_config
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot

EMOJI_CODE = re.compile(r"(?<![\w:]):[a-z0-9_+'-]+:(?![\w:])")


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        (":envelope: Told Coursedog support", "Told Coursedog support"),
        ("Done :white_check_mark: by <@U1>", "Done by <@U1>"),
        (":+1: ok", "ok"),
        ("at 10:30:00 and 12:00 EST", "at 10:30:00 and 12:00 EST"),
        ("<https://example.edu:8443/x|link> `a:b:c`", "<https://example.edu:8443/x|link> `a:b:c`"),
        ("Message-ID `<mw1.approved.ab@x.edu>`", "Message-ID `<mw1.approved.ab@x.edu>`"),
    ],
)
def test_without_emoji_takes_out_codes_and_nothing_else(text: str, plain: str) -> None:
    assert without_emoji(text) == plain


def test_a_message_shows_its_blocks_and_notifies_without_emoji_codes() -> None:
    blocks = [section(":warning: careful")]
    assert message(":warning: careful", blocks) == {"text": "careful", "blocks": blocks}
    # No blocks: the text is shown in a section (emoji and all), and notifies without codes.
    assert message(":zzz: quiet") == {"text": "quiet", "blocks": [section(":zzz: quiet")]}
    # Too long for a section: the text is the message, as it was.
    long = ":memo: " + "x" * SECTION_TEXT
    assert message(long) == {"text": long, "blocks": None}


def _posted(bot: Bot) -> list[tuple[str, str]]:
    """(text, blocks as JSON) of every message the bot posted or updated."""
    calls = bot.slack.calls_to("chat.postMessage") + bot.slack.calls_to("chat.update")
    return [(str(c.args.get("text", "")), json.dumps(c.args.get("blocks"))) for c in calls]


def test_no_notification_text_the_bot_sends_shows_an_emoji_code(database_url: str) -> None:
    with bot_with(database_url, notice_config(None), ManualClock()) as bot:
        approve(bot)
        bot.tick()
        bot.command(REQUESTER, "extend MW-1 1h")
        bot.tick()
        bot.command(REQUESTER, "end MW-1")
        bot.command(REQUESTER, "start staging 1h")
        bot.click(APPROVER, ids.DENY, "2", bot.wait_card(2))
        posted = _posted(bot)
    assert len(posted) > 8
    assert [text for text, _ in posted if EMOJI_CODE.search(text)] == []
    assert any(EMOJI_CODE.search(blocks) for _, blocks in posted)  # people still see emoji


def test_direct_messages_notify_without_emoji_codes(database_url: str) -> None:
    with running_bot(database_url) as bot:
        bot.command(REQUESTER, "start prod 1h")
        bot.wait_card(1)
        bot.deny(APPROVER, 1)
        [denied] = bot.slack.direct_messages(REQUESTER)
        assert denied.text.startswith("Your request MW-1 was denied")
        assert denied.blocks[0]["text"]["text"].startswith(":x: Your request MW-1")
