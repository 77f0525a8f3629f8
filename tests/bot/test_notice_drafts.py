"""The notice draft as one line, its text in a modal, and its versions as the window changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.domain.states import NoticeStatus
from bot.sandbox.slack_api import Message
from bot.services.notice_drafts import Shown, changes
from bot.services.notices import NoticeView
from bot.slack import ids, notice_blocks
from bot.slack.text import escape
from storage.models import AuditEvent, CoursedogNotice
from tests.bot.test_notices import (
    SUPPORT,
    Inbox,
    _free_port,
    approve,
    bot_with,
    notice_config,
    notices,
)
from tests.harness import APPROVER, REQUESTER, STRANGER, Bot, ManualClock, buttons


def lines(bot: Bot) -> list[Message]:
    """The thread's messages about the notice to Coursedog."""
    card = bot.card(1)
    said = ("Told Coursedog", "sent the notice to Coursedog")
    return [
        m
        for m in bot.slack.thread(card.channel, card.ts)
        if {ids.NOTICE_SHOW, ids.NOTICE_SENT} & set(buttons(m)) or any(s in m.text for s in said)
    ]


def show(bot: Bot, user: str, message: Message) -> dict[str, Any]:
    """Press Show the draft on ``message``; the modal the bot opened with the click's trigger."""
    [value] = [
        e["value"]
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.NOTICE_SHOW
    ]
    opened = len(bot.slack.calls_to("views.open"))
    bot.click(user, ids.NOTICE_SHOW, value, message)
    calls = bot.slack.calls_to("views.open")
    assert len(calls) == opened + 1, bot.responses()[-1:]
    assert calls[-1].args["trigger_id"].startswith("trigger-")
    return bot.slack.views[-1]


def text_of(view: dict[str, Any]) -> str:
    """The notice's text as the modal shows it: its code blocks after *Text*, joined."""
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    after = sections[sections.index("*Text*") + 1 :]
    return "\n".join(s.removeprefix("```").removesuffix("```") for s in after)


def two_versions(bot: Bot) -> tuple[Message, Message, CoursedogNotice, CoursedogNotice]:
    """Approve MW-1 (a draft nobody sends), then extend it by an hour: the lines of both
    versions, and both notices."""
    approve(bot)
    bot.tick()
    bot.command(REQUESTER, "extend MW-1 1h")
    bot.tick()
    first, update = lines(bot)
    older, newer = notices(bot)
    return first, update, older, newer


def audit(bot: Bot, action: str) -> list[str]:
    with bot.runtime.sessions() as session:
        query = select(AuditEvent.detail).where(AuditEvent.action == action)
        return list(session.scalars(query.order_by(AuditEvent.id)))


def test_show_the_draft_opens_a_modal_with_the_whole_text_to_copy(database_url: str) -> None:
    with bot_with(database_url, notice_config(None)) as bot:
        approve(bot)
        bot.tick()
        [line] = lines(bot)
        [row] = notices(bot)
        view = show(bot, STRANGER, line)  # anyone in the channel may read it
        assert view["type"] == "modal" and view["callback_id"] == ids.NOTICE_VIEW
        assert view["title"] == {"type": "plain_text", "text": "Notice to Coursedog"}
        assert view["private_metadata"] == str(row.id)
        assert view["submit"]["text"] == "Sent it"
        standing = view["blocks"][0]["text"]["text"]
        assert f"email {SUPPORT}" in standing and "Not sent yet" in standing
        assert f"```{escape(row.subject or '')}```" in str(view["blocks"])
        assert text_of(view) == escape(row.body or "")
        assert ":" not in view["title"]["text"].replace("Notice to Coursedog", "")


def test_a_change_before_anyone_sent_the_draft_is_one_line_saying_what_changed(
    database_url: str,
) -> None:
    with bot_with(database_url, notice_config(None)) as bot:
        first, update, older, newer = two_versions(bot)
        assert "updated" in update.text and buttons(update) == [ids.NOTICE_SHOW, ids.NOTICE_SENT]
        said = update.text.split(": ", 1)[1]
        assert said.startswith("ends ") and "13:00 EST" in said and "instead of" in said
        assert said.index("13:00 EST") < said.index("instead of") < said.index("12:00 EST")
        assert "school id" not in str(update.blocks)
        assert (older.status, newer.status) == ("superseded", "draft")
        # Coursedog never got the first version: the newer one announces the window afresh,
        # with its new end, rather than an extension of something it never heard of.
        assert (newer.subject or "").startswith("Planned SIS maintenance: MW-1")
        assert "13:00 EST" in (newer.body or "") and "12:00 EST" not in (newer.body or "")
        assert len(audit(bot, "coursedog_notice_superseded")) == 1
        # Show the draft on the first line shows the newest version, and says so.
        view = show(bot, REQUESTER, first)
        assert view["private_metadata"] == str(newer.id)
        assert text_of(view) == escape(newer.body or "")
        assert "updated after that message" in str(view["blocks"])
        assert bot.sim.school("state_u_prod").comments == []  # nothing sent: nothing to cite
        # Sent it on the modal confirms the version it shows, and the thread says who.
        answer = bot.submit_view(REQUESTER, view)
        assert answer.status_code == 200 and not answer.content.strip()  # the modal closes
        assert [n.status for n in notices(bot)] == ["superseded", "confirmed"]
        # The version's own line says so, in place: no new line in the thread.
        [_first, marked] = lines(bot)
        assert f"<@{REQUESTER}> sent the notice" in marked.text and marked.edits == 1
        assert buttons(marked) == [ids.NOTICE_SHOW]
        [comment] = bot.sim.school("state_u_prod").comments
        assert "Reference: notice to Coursedog support, sent by hand." in comment


def test_sent_it_on_an_older_version_records_that_one_and_the_newer_stays_to_send(
    database_url: str,
) -> None:
    with bot_with(database_url, notice_config(None)) as bot:
        first, update, older, newer = two_versions(bot)
        bot.click(APPROVER, ids.NOTICE_SENT, str(older.id), first)
        answer = bot.responses()[-1]
        assert answer["replace_original"] is True
        assert f"<@{APPROVER}> sent the notice" in answer["text"]
        assert "changed after that version (ends" in answer["text"]
        assert "please send the newest one too" in answer["text"]
        offered = [
            e["value"] for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]
        ]
        assert offered == [str(newer.id), str(newer.id)]
        assert [n.status for n in notices(bot)] == ["confirmed", "draft"]
        # Coursedog has the announcement (the older text): the comment cites it.
        [comment] = bot.sim.school("state_u_prod").comments
        assert "sent by hand" in comment
        bot.click(REQUESTER, ids.NOTICE_SENT, str(newer.id), update)
        assert [n.status for n in notices(bot)] == ["confirmed", "confirmed"]
        # Both versions are sent: a later change is a new draft, an extension of what was said.
        bot.command(REQUESTER, "extend MW-1 30m")
        bot.tick()
        latest = notices(bot)[-1]
        assert latest.status == "draft"
        assert (latest.subject or "").startswith("Planned SIS maintenance extended: MW-1")
        assert "No mail server is configured" in lines(bot)[-1].text


def test_a_superseded_version_is_not_recorded_once_a_newer_one_went_out(
    database_url: str,
) -> None:
    with bot_with(database_url, notice_config(None)) as bot:
        first, update, older, newer = two_versions(bot)
        view = show(bot, REQUESTER, update)
        # Someone who may not manage the window: the modal stays open and says why.
        refused = bot.submit_view(STRANGER, view).json()
        assert refused["response_action"] == "update"
        assert "Only the requester" in refused["view"]["blocks"][0]["text"]["text"]
        assert "submit" not in refused["view"]
        assert refused["view"]["blocks"][1:] == view["blocks"]
        assert bot.submit_view(REQUESTER, view).content.strip() == b""
        bot.click(APPROVER, ids.NOTICE_SENT, str(older.id), first)
        said = bot.responses()[-1]["text"]
        assert "A newer version of this notice replaced it" in said
        assert f"<@{REQUESTER}> recorded sending it" in said
        again = bot.submit_view(APPROVER, view).json()
        assert "already recorded" in again["view"]["blocks"][0]["text"]["text"]
        assert [n.status for n in notices(bot)] == ["superseded", "confirmed"]
        assert audit(bot, "coursedog_notice_confirmed") == [newer.subject]


def test_a_version_emailed_after_an_unsent_draft_replaces_it_and_is_cited(
    database_url: str,
) -> None:
    port = _free_port()
    with bot_with(database_url, notice_config(port)) as bot:
        approve(bot)
        bot.tick()  # nothing listens on the port yet: a draft
        assert notices(bot)[0].status == "draft"
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            bot.command(REQUESTER, "extend MW-1 1h")
            bot.tick()
        finally:
            controller.stop()
        [mail] = inbox.messages
        assert mail["Subject"].startswith("Planned SIS maintenance: MW-1")  # it says it all
        assert "13:00 EST" in mail.get_content()
        older, newer = notices(bot)
        assert (older.status, newer.status) == ("superseded", "sent")
        assert "replaces the draft above" in lines(bot)[-1].text
        [comment] = bot.sim.school("state_u_prod").comments
        assert f"Message-ID {newer.message_id}" in comment
        bot.click(REQUESTER, ids.NOTICE_SENT, str(older.id), lines(bot)[0])
        assert "the bot emailed it" in bot.responses()[-1]["text"]


def test_ending_early_before_anyone_sent_the_draft_says_so_in_one_line(database_url: str) -> None:
    clock = ManualClock()
    with bot_with(database_url, notice_config(None), clock) as bot:
        approve(bot)
        bot.tick()
        clock.advance(timedelta(minutes=4))
        bot.command(REQUESTER, "end MW-1")
        bot.tick()
        _first, update = lines(bot)
        assert update.text.startswith("Draft to Coursedog updated: The maintenance below ended")
        assert "\n" not in update.text and update.text.endswith("switched back on now.")
        older, newer = notices(bot)
        assert (older.status, newer.status) == ("superseded", "draft")
        assert (newer.subject or "").startswith("Planned SIS maintenance ended early: MW-1")


def test_show_the_draft_says_so_when_slack_will_not_open_it(database_url: str) -> None:
    with bot_with(database_url, notice_config(None)) as bot:
        approve(bot)
        bot.tick()
        [line] = lines(bot)
        bot.slack.fail("views.open", "expired_trigger_id")
        bot.click(REQUESTER, ids.NOTICE_SHOW, str(notices(bot)[0].id), line)
        answer = bot.responses()[-1]
        assert "expired_trigger_id" in answer["text"] and "again" in answer["text"]
        assert answer["replace_original"] is False
        bot.click(REQUESTER, ids.NOTICE_SHOW, "999", line)
        assert "not in the ledger" in bot.responses()[-1]["text"]


def test_the_modal_shows_a_long_text_whole_in_parts_that_fit_a_section() -> None:
    def modal(body: str, status: NoticeStatus = NoticeStatus.DRAFT) -> dict[str, Any]:
        notice = NoticeView(7, 1, "approved", "<m@x>", SUPPORT, "Subject", body, status, None, None)
        return notice_blocks.modal(Shown(notice, replaced=False))

    def fits(view: dict[str, Any]) -> bool:
        return all(len(b["text"]["text"]) <= 3000 for b in view["blocks"] if "text" in b)

    lines = "\n".join(f"line {n} <&> " + "x" * (n % 90) for n in range(150))
    view = modal(lines)  # cut at line ends
    assert fits(view) and len(view["blocks"]) > 5 and text_of(view) == escape(lines)
    one_line = "y" * 7000  # a line longer than a section is cut where it must be
    view = modal(one_line)
    assert fits(view) and text_of(view).replace("\n", "") == one_line
    assert "submit" not in modal("b", NoticeStatus.SENT)
    assert "submit" not in modal("b", NoticeStatus.CONFIRMED)


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        ("From: 10:00\nTo: 12:00", "From: 11:00\nTo: 12:00", ["starts 11:00 instead of 10:00"]),
        # A draft stored when notices gave each time in UTC too, and its window changed since.
        (
            "From: 10:00 EST = 15:00 UTC\nTo:   12:00 EST = 17:00 UTC",
            "From: 10:00 EST\nTo:   13:00 EST",
            ["ends 13:00 EST instead of 12:00 EST"],
        ),
        ("Hello\nThe maintenance is planned.", "Hello\nIt ended early.", ["It ended early."]),
        ("same\n\ntext", "same\n\ntext", []),
        ("", "To: 12:00", ["ends 12:00"]),
    ],
)
def test_changes_say_briefly_what_a_version_says_that_the_one_before_did_not(
    before: str, after: str, said: list[str]
) -> None:
    assert list(changes(before, after)) == said
