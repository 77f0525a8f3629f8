"""Acknowledgements never wait for Slack or Coursedog: what is slow happens after them."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bot.domain.states import WindowState
from bot.sandbox.slack_api import Message
from bot.slack import ids
from bot.slack.after_ack import Lull
from tests.harness import APPROVALS, APPROVER, REQUESTER, Bot, running_bot

TIMES = 10


def together(fire: object, count: int = TIMES) -> list[httpx.Response]:
    """Send ``count`` requests at once; every one must be answered (the client waits 10 s)."""
    gate = threading.Barrier(count)

    def one(n: int) -> httpx.Response:
        gate.wait()
        return fire(n)  # type: ignore[operator]

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def text_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(json.loads(response.text).get("text", ""))


def test_starts_and_approvals_are_acknowledged_while_slack_hangs(bot: Bot) -> None:
    bot.command(REQUESTER, "help")  # Bolt checks its token (auth.test) on the first request
    bot.slack.hold()  # no card, no thread reply, no response_url post is answered
    try:
        answers = together(lambda n: bot.command(REQUESTER, f"start prod 2h Patch {n}", wait=False))
        numbers = sorted(int(text_of(a).split("MW-")[1].split("*")[0]) for a in answers)
        assert numbers == list(range(1, TIMES + 1))  # each acknowledgement names its window
        # The cards are not posted yet; the clicks name the windows as the cards would.
        held = Message(channel=APPROVALS, ts="1.000001", text="", blocks=[], thread_ts=None)
        clicks = together(lambda n: bot.click(APPROVER, ids.APPROVE, str(n + 1), held, wait=False))
        assert [c.status_code for c in clicks] == [200] * TIMES
        assert bot.slack.calls_to("chat.postMessage") == []  # all of it is still waiting
    finally:
        bot.slack.release()
    assert bot.settle(30)
    assert len(bot.cards()) == TIMES
    for number in range(1, TIMES + 1):  # each click did its work once Slack answered again
        assert bot.runtime.windows.get(number).state is WindowState.ACTIVE
    assert bot.sim.school("state_u_prod").writes == 1


def test_a_burst_of_requests_is_answered_before_their_cards_are_posted(
    database_url: str,
) -> None:
    lull = Lull(1.0, 30.0)  # cards wait for a second without requests
    with running_bot(database_url, lull=lull) as bot:
        bot.command(REQUESTER, "help")
        before = lull.now()
        answers = together(lambda n: bot.command(REQUESTER, f"start prod 2h Patch {n}", wait=False))
        numbers = sorted(int(text_of(a).split("MW-")[1].split("*")[0]) for a in answers)
        assert numbers == list(range(1, TIMES + 1))
        assert lull.last_activity >= before and lull.serving == 0  # each came and was answered
        assert bot.cards() == []  # all answered; no card yet
        assert bot.settle(30)
        assert len(bot.cards()) == TIMES
        for number in range(1, TIMES + 1):
            assert bot.runtime.windows.get(number).card_ts is not None


def test_an_error_after_the_acknowledgement_is_told_to_whoever_clicked(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h Patch")
    card = bot.wait_card(1)
    answer = bot.click(REQUESTER, ids.APPROVE, "1", card)  # a requester may not approve
    assert answer.status_code == 200 and answer.text == ""  # acknowledged, nothing more
    said = [str(r.get("text", "")) for r in bot.responses()]
    assert any("approve" in s.lower() and ":no_entry_sign:" in s for s in said), said


def test_a_card_refreshed_with_an_old_view_shows_the_ledger_as_it_is_now(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h Patch")
    card = bot.wait_card(1)
    requested = bot.runtime.windows.get(1)  # a view taken before the approval
    bot.click(APPROVER, ids.APPROVE, "1", card)
    assert bot.settle()
    shown = str(bot.card(1).blocks)
    bot.runtime.notifier.refresh_card(requested)  # e.g. a late refresh from another thread
    assert str(bot.card(1).blocks) == shown  # still the active window, not the old request
    assert "Waiting for an approver" not in shown


def test_the_switch_starts_while_slack_is_slow_and_the_thread_still_reads_in_order(
    bot: Bot,
) -> None:
    bot.command(REQUESTER, "start prod 2h Patch")
    card = bot.wait_card(1)
    school = bot.sim.school("state_u_prod")
    posted = len(bot.slack.calls_to("chat.postMessage"))
    bot.slack.hold()  # the "approved" reply in the thread waits on Slack
    try:
        bot.click(APPROVER, ids.APPROVE, "1", card, wait=False)
        deadline = time.monotonic() + 10
        while school.writes == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Merges went off without waiting for Slack to take the thread reply.
        assert school.writes == 1 and (school.nightly, school.realtime) == (False, False)
        assert len(bot.slack.calls_to("chat.postMessage")) == posted  # nothing answered yet
    finally:
        bot.slack.release()
    assert bot.settle()
    thread = bot.thread(1)
    approved = next(i for i, t in enumerate(thread) if "Approved by" in t)
    verified = next(i for i, t in enumerate(thread) if "switched off and verified" in t)
    assert approved < verified, thread
