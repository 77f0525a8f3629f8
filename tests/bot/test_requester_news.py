"""The requester in the loop: one direct message per moment, with a link to the thread, each
once (bot.services.requester_news, bot.slack.notifier.SlackNotifier.tell_requesters), and the
Deny modal whose optional reason reaches them. Everything through signed requests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.sandbox.slack_api import SlackStandIn
from bot.slack import ids
from bot.slack.forms import REASON_LIMIT
from storage.models import AuditEvent, PendingReport, Window
from tests.harness import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    STRANGER,
    Bot,
    buttons,
)


def dms(bot: Bot, user: str = REQUESTER) -> list[str]:
    return [m.text for m in bot.slack.direct_messages(user)]


def thread_link(bot: Bot, number: int) -> str:
    card = bot.card(number)
    return f"<{bot.slack.permalink(card.channel, card.ts)}|Open the thread>"


def requested(bot: Bot, text: str = "start prod 2h Banner patch", number: int = 1) -> None:
    bot.command(REQUESTER, text)
    bot.wait_card(number)


def owed_news(bot: Bot) -> list[str]:
    with bot.runtime.sessions.begin() as session:
        keys = session.scalars(select(PendingReport.dedup_key)).all()
    return [k for k in keys if k.startswith("dm:")]


def refuse_dms_to(bot: Bot, user: str, error: str = "ratelimited") -> list[int]:
    """Slack refuses direct messages to ``user`` until the returned switch is set to 0."""
    left = [1]
    post = bot.slack._chat_postMessage

    def refusing(args: dict[str, Any]) -> dict[str, Any]:
        if left[0] and str(args.get("channel")) == user:
            return {"ok": False, "error": error}
        return post(args)

    bot.slack._chat_postMessage = refusing  # type: ignore[method-assign]
    return left


def test_approved_off_and_restored_each_reach_the_requester_once_with_the_thread(
    bot: Bot,
) -> None:
    requested(bot)
    assert dms(bot) == []

    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    link = thread_link(bot, 1)
    approved, off = dms(bot)
    assert f"MW-1 was approved by <@{APPROVER}>" in approved and link in approved
    assert "merges on `prod` (Production) are off, verified by reading back" in off
    assert link in off
    assert all("\n" not in text for text in (approved, off))  # one line each

    bot.replay()  # a copy of the approval's request changes nothing, and tells nobody again
    bot.runtime.worker.run_once(["prod"])
    assert bot.settle()
    assert len(dms(bot)) == 2

    bot.command(APPROVER_2, "end MW-1")
    assert bot.settle()
    restored = dms(bot)[-1]
    assert "MW-1: `prod` (Production) is back to nightly on, real-time on" in restored
    assert "verified by reading back" in restored and link in restored
    assert len(dms(bot)) == 3
    assert owed_news(bot) == []
    assert dms(bot, APPROVER) == [] and dms(bot, APPROVER_2) == []


def test_a_window_for_later_says_when_merges_go_off(bot: Bot) -> None:
    requested(bot, "schedule staging tomorrow 10:00 1h")
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    [approved] = dms(bot)
    assert "approved by" in approved and "Merges go off at <!date^" in approved


def test_a_window_on_two_environments_tells_of_each(bot: Bot) -> None:
    requested(bot, "start prod,staging 1h")
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    off = [t for t in dms(bot) if "are off" in t]
    assert len(off) == 2 and any("`staging`" in t for t in off)


def test_the_requester_ending_their_own_window_is_not_told_of_the_restore(bot: Bot) -> None:
    requested(bot)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    bot.click(REQUESTER, ids.REENABLE, "1")  # they pressed it; the thread answers them
    assert bot.settle()
    assert "restored and verified" in "\n".join(bot.thread(1))
    assert not any("is back to" in t for t in dms(bot))
    assert owed_news(bot) == []  # settled, not left owed


def test_what_needs_a_person_is_sent_even_after_the_requesters_own_press(bot: Bot) -> None:
    bot.sim.set_school("state_u_prod", {"schedule_answer": {"syncType": "weekly"}})
    requested(bot)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    needs = [t for t in dms(bot) if "needs you" in t]
    assert len(needs) == 1
    assert "MW-1 needs you on `prod` (Production)" in needs[0]
    assert "switch merges off by hand" in needs[0] and "*needs a person*" in needs[0]
    assert thread_link(bot, 1) in needs[0]
    bot.runtime.worker.run_once(["prod"])  # read again: the same question, not a new message
    assert bot.settle()
    assert len([t for t in dms(bot) if "needs you" in t]) == 1


def test_a_message_slack_refused_stays_owed_and_is_sent_once_later(bot: Bot) -> None:
    refused = refuse_dms_to(bot, REQUESTER)
    requested(bot)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    assert dms(bot) == []
    assert len(owed_news(bot)) == 2  # approved, and off

    refused[0] = 0
    chores = bot.runtime.worker.chores
    assert chores is not None
    chores()
    chores()
    assert bot.settle()
    assert len(dms(bot)) == 2 and "approved by" in dms(bot)[0]
    assert owed_news(bot) == []


def test_news_owed_when_the_process_stopped_is_sent_by_the_next_one(bot: Bot) -> None:
    requested(bot)
    # The decision as the modal's submission records it, its process gone before it told anyone.
    bot.runtime.windows.deny(window_id=1, approver=APPROVER, reason="Not this week")
    bot.restart()
    chores = bot.runtime.worker.chores
    assert chores is not None
    chores()
    assert bot.settle()
    [denied] = dms(bot)
    assert "Reason: “Not this week”" in denied and thread_link(bot, 1) in denied


def test_without_a_link_the_message_says_where_the_thread_is(bot: Bot) -> None:
    bot.slack.fail("chat.getPermalink", "message_not_found", times=5)
    requested(bot)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    approved = dms(bot)[0]
    assert "approved by" in approved and f"Its thread is in <#{bot.card(1).channel}>" in approved


def test_deny_opens_a_modal_whose_reason_reaches_the_requester(bot: Bot) -> None:
    requested(bot)
    bot.click(APPROVER, ids.DENY, "1")
    assert bot.settle()
    [modal] = bot.slack.views
    assert modal["callback_id"] == ids.DENY_VIEW and modal["private_metadata"] == "1"
    field = modal["blocks"][-1]
    assert field["block_id"] == ids.B_DENY_REASON and field["optional"] is True
    assert field["element"]["max_length"] == REASON_LIMIT
    assert dms(bot) == [] and buttons(bot.card(1)) == [ids.APPROVE, ids.DENY, ids.CANCEL]
    with bot.runtime.sessions.begin() as session:
        assert session.get(Window, 1).state == "requested"  # type: ignore[union-attr]

    answer = bot.submit_view(APPROVER, modal, {ids.B_DENY_REASON: "  <!here> Banner is frozen  "})
    assert answer.status_code == 200 and not answer.content.strip()
    [denied] = dms(bot)
    assert f"MW-1 was denied by <@{APPROVER}>" in denied
    assert "Reason: “&lt;!here&gt; Banner is frozen”" in denied
    assert thread_link(bot, 1) in denied
    with bot.runtime.sessions.begin() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "denied")).one()
        assert event.detail == "<!here> Banner is frozen"

    bot.replay()  # the same submission again: nothing more
    assert len(dms(bot)) == 1


def test_deny_without_a_reason_says_none_was_given(bot: Bot) -> None:
    requested(bot)
    bot.deny(APPROVER, 1, None)
    [denied] = dms(bot)
    assert "No reason was given" in denied and "Nothing was switched off" in denied


def test_a_reason_too_long_is_refused_on_its_field(bot: Bot) -> None:
    requested(bot)
    bot.click(APPROVER, ids.DENY, "1")
    assert bot.settle()
    answer = bot.submit_view(APPROVER, bot.slack.views[-1], {ids.B_DENY_REASON: "x" * 501})
    errors = answer.json()["errors"]
    assert "501 characters long; at most 500" in errors[ids.B_DENY_REASON]
    assert dms(bot) == []


def test_a_deny_submitted_after_someone_approved_is_refused_on_the_form(bot: Bot) -> None:
    requested(bot)
    bot.click(APPROVER_2, ids.DENY, "1")
    assert bot.settle()
    modal = bot.slack.views[-1]
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    answer = bot.submit_view(APPROVER_2, modal, {ids.B_DENY_REASON: "no"})
    said = answer.json()["errors"][ids.B_DENY_REASON]
    assert f"MW-1 was already active by <@{APPROVER}>" in said
    assert not any("denied" in t for t in dms(bot))


@pytest.mark.parametrize(
    ("requester", "who", "refusal"),
    [
        (REQUESTER, STRANGER, "You are not an approver"),
        (REQUESTER, REQUESTER, "You are not an approver"),
        (APPROVER, APPROVER, "so another approver must deny it"),
    ],
)
def test_someone_who_may_not_deny_gets_no_modal(
    bot: Bot, requester: str, who: str, refusal: str
) -> None:
    bot.command(requester, "start prod 1h")
    bot.wait_card(1)
    bot.click(who, ids.DENY, "1")
    assert bot.settle()
    assert bot.slack.calls_to("views.open") == []
    assert refusal in bot.responses()[-1]["text"]


def test_a_modal_that_cannot_open_denies_as_pressed_and_says_so(bot: Bot) -> None:
    requested(bot)
    bot.slack.fail("views.open", "expired_trigger_id")
    bot.click(APPROVER, ids.DENY, "1")
    assert bot.settle()
    said = bot.responses()[-1]["text"]
    assert "MW-1 is denied" in said and "`expired_trigger_id`" in said
    assert f"<@{REQUESTER}> was told without one" in said
    [denied] = dms(bot)
    assert "was denied by" in denied and "No reason was given" in denied
    assert f"Denied by <@{APPROVER}>" in str(bot.card(1).blocks)


def test_deny_from_the_app_home_opens_the_modal_too(bot: Bot) -> None:
    requested(bot)
    bot.open_home(APPROVER)
    bot.click_home(APPROVER, ids.DENY, "1")
    assert bot.settle()
    assert bot.slack.views[-1]["callback_id"] == ids.DENY_VIEW


def test_without_a_card_only_a_denial_is_sent_for_the_thread_is_their_own(bot: Bot) -> None:
    def card_less() -> int:  # a request whose card was never posted: its thread is the DMs
        return bot.runtime.windows.request(
            requester=REQUESTER, environments=["prod"], duration=timedelta(hours=1), reason="x"
        ).view.id

    chores = bot.runtime.worker.chores
    assert chores is not None
    denied = card_less()
    bot.runtime.windows.deny(window_id=denied, approver=APPROVER, reason="frozen")
    approved = card_less()
    bot.click_home(APPROVER, ids.APPROVE, str(approved))  # no card to press it on
    chores()
    assert bot.settle()
    told = dms(bot)
    assert [t for t in told if "denied" in t] == [
        f"Your request MW-{denied} was denied by <@{APPROVER}>. Reason: “frozen”. "
        "Nothing was switched off."
    ]
    # The thread's own "approved" and what follows are its direct messages already.
    assert not any("Your request" in t and "approved" in t for t in told)
    assert any("Approved by" in t for t in told)
    assert owed_news(bot) == []


def test_the_stand_in_links_to_messages_as_slack_does() -> None:
    slack = SlackStandIn()
    slack.start()
    try:
        posted = slack.handle("chat.postMessage", {"channel": "C0OPS", "text": "hi"}, "")
        assert posted[1]["error"] == "not_authed"
        auth = f"Bearer {slack.token}"
        ts = slack.handle("chat.postMessage", {"channel": "C0OPS", "text": "hi"}, auth)[1]["ts"]
        ok = slack.handle("chat.getPermalink", {"channel": "C0OPS", "message_ts": ts}, auth)[1]
        assert ok == {
            "ok": True,
            "channel": "C0OPS",
            "permalink": f"{slack.base_url}/archives/C0OPS/p{ts.replace('.', '')}",
        }
        for args, error in (
            ({"channel": "C0OPS", "message_ts": "1.2"}, "message_not_found"),
            ({"channel": "C0ELSE", "message_ts": ts}, "message_not_found"),
            ({"channel": "C0OPS"}, "invalid_arguments"),
        ):
            assert slack.handle("chat.getPermalink", args, auth)[1]["error"] == error
        slack.missing_channels.add("C0GONE")
        gone = {"channel": "C0GONE", "message_ts": ts}
        assert slack.handle("chat.getPermalink", gone, auth)[1]["error"] == "channel_not_found"
    finally:
        slack.stop()
