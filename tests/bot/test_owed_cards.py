"""A request whose approval card was never posted gets it from the worker's periodic pass.

`start` records the request with a claim on posting its card, answers with its number, then
posts the card under that claim. A process that stops between the two leaves a recorded
request nobody could approve; once the claim is stale, the next periodic pass (of this
process or another) takes it over and posts the card, once, however many posters try.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from bot.jobs.worker import Worker
from bot.services.outbox import STALE_CLAIM, card_key
from bot.services.windows import Requested
from bot.slack import ids
from storage.models import SlackNotice
from tests.harness import APPROVALS, APPROVER, REQUESTER, Bot, ManualClock, running_bot

STALE = STALE_CLAIM + timedelta(seconds=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 10, 20, 14, tzinfo=UTC))


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as b:
        yield b


def recorded_without_card(bot: Bot, reason: str = "Banner patch") -> Requested:
    """A request as `start` records it, its process gone before the card was posted."""
    return bot.runtime.windows.request(
        requester=REQUESTER, environments=["prod"], duration=timedelta(hours=2), reason=reason
    )


def owed(bot: Bot) -> int:
    """Post the cards owed now, as the worker's periodic pass does."""
    chores = bot.runtime.worker.chores
    assert chores is not None
    posted = chores()
    assert bot.settle()
    assert isinstance(posted, int)
    return posted


def cards_of(bot: Bot, number: int) -> int:
    return sum(f"MW-{number}:" in c.text for c in bot.cards())


def claims_of(bot: Bot, number: int) -> list[SlackNotice]:
    with bot.runtime.sessions.begin() as s:
        found = s.scalars(select(SlackNotice).where(SlackNotice.dedup_key == card_key(number)))
        return list(found)


def test_a_request_claims_its_card_as_it_is_recorded(bot: Bot) -> None:
    requested = recorded_without_card(bot)
    [claim] = claims_of(bot, 1)
    assert (claim.id, claim.ts) == (requested.card_claim, None)


def test_a_request_left_without_its_card_gets_it_once_its_claim_is_stale(
    bot: Bot, clock: ManualClock
) -> None:
    recorded_without_card(bot)
    clock.advance(STALE_CLAIM / 2)
    assert owed(bot) == 0  # its own process may still be posting it
    assert cards_of(bot, 1) == 0

    clock.advance(STALE_CLAIM / 2 + timedelta(seconds=1))
    assert owed(bot) == 1
    assert cards_of(bot, 1) == 1
    view = bot.runtime.windows.get(1)
    assert (view.channel_id, view.card_ts) == (APPROVALS, bot.card(1).ts)
    assert [c.ts for c in claims_of(bot, 1)] == [bot.card(1).ts]  # settled with the card
    assert owed(bot) == 0 and cards_of(bot, 1) == 1

    bot.click(APPROVER, ids.APPROVE, "1")  # the card works like any other
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "active"


def test_a_request_with_no_claim_at_all_gets_its_card(bot: Bot, clock: ManualClock) -> None:
    recorded_without_card(bot)
    with bot.runtime.sessions.begin() as s:  # a claim freed after Slack failed, say
        s.execute(delete(SlackNotice).where(SlackNotice.dedup_key == card_key(1)))
    clock.advance(STALE)
    assert owed(bot) == 1 and cards_of(bot, 1) == 1


def test_a_card_posted_after_the_answer_is_not_posted_again(bot: Bot, clock: ManualClock) -> None:
    assert "MW-1" in bot.command(REQUESTER, "start prod 2h Banner patch").json()["text"]
    bot.wait_card(1)
    assert [c.ts for c in claims_of(bot, 1)] == [bot.card(1).ts]
    clock.advance(STALE)
    assert owed(bot) == 0
    assert cards_of(bot, 1) == 1


def test_two_passes_taking_over_one_card_post_it_once(bot: Bot, clock: ManualClock) -> None:
    view = recorded_without_card(bot).view
    clock.advance(STALE)
    notifier = bot.runtime.notifier
    results: list[bool] = []
    start = threading.Barrier(2)

    def post() -> None:
        start.wait()
        results.append(notifier.post_card(view))

    posters = [threading.Thread(target=post) for _ in range(2)]
    for poster in posters:
        poster.start()
    for poster in posters:
        poster.join()
    assert sorted(results) == [False, True]
    assert cards_of(bot, 1) == 1
    assert [c.ts for c in claims_of(bot, 1)] == [bot.card(1).ts]


def test_a_card_slack_refuses_withdraws_the_request_and_tells_the_requester(
    bot: Bot, clock: ManualClock
) -> None:
    recorded_without_card(bot)
    clock.advance(STALE)
    bot.slack.fail("chat.postMessage", "not_in_channel")
    assert owed(bot) == 0
    assert bot.runtime.windows.get(1).state == "cancelled"
    told = bot.slack.direct_messages(REQUESTER)[-1].text
    assert "MW-1 was withdrawn" in told and "not_in_channel" in told and APPROVALS in told
    assert claims_of(bot, 1) == []  # the claim was freed, not left half-posted
    assert owed(bot) == 0  # a withdrawn request is owed nothing


def test_a_request_cancelled_before_its_card_is_owed_none(bot: Bot, clock: ManualClock) -> None:
    recorded_without_card(bot, "one")
    recorded_without_card(bot, "two")
    assert "MW-2" in bot.command(REQUESTER, "cancel MW-2").json()["text"]
    assert bot.runtime.windows.get(2).state == "cancelled"
    clock.advance(STALE)
    assert owed(bot) == 1
    assert cards_of(bot, 1) == 1 and cards_of(bot, 2) == 0


class _Idle:
    """A reconciler with nothing in play."""

    def environments_in_play(self) -> set[str]:
        return set()

    def busy(self) -> dict[str, float]:
        return {}

    def close(self) -> None:
        pass


def test_the_worker_runs_its_chores_on_each_periodic_tick() -> None:
    ran = threading.Event()
    worker = Worker(_Idle(), lambda reports: None, owed=list, interval=0.05)  # type: ignore[arg-type]
    worker.chores = ran.set
    worker.start()
    try:
        assert ran.wait(5)
    finally:
        worker.stop()


def test_a_failing_chore_does_not_stop_the_worker() -> None:
    calls: list[int] = []
    again = threading.Event()

    def chore() -> None:
        calls.append(1)
        if len(calls) == 2:
            again.set()
        raise RuntimeError("database down")

    worker = Worker(_Idle(), lambda reports: None, owed=list, interval=0.02)  # type: ignore[arg-type]
    worker.chores = chore
    worker.start()
    try:
        assert again.wait(5)  # the tick after the failure ran it again
    finally:
        worker.stop()
