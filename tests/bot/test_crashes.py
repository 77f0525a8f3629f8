"""SIGKILL at every step of a change, restart, and the ledger, Coursedog and Slack still agree.

The bot runs as `sis-maint serve` in its own process and kills itself at a crash point
(bot.crashpoint). A fresh process on the same ledger must repair whatever was left half done:
merges end up as the window wants them, at most one write reached Coursedog for each change,
the thread tells the story once, and Merge Settings' Activity has one comment per change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from bot.services.outbox import STALE_CLAIM, card_key
from bot.slack import ids
from storage.models import AuditEvent, DueAction, RemoteWrite, SlackNotice, Window
from tests import invariants
from tests.harness import APPROVER, REQUESTER
from tests.process import SCHOOL, Stack, eventually, stack

pytestmark = [pytest.mark.timeout(180), pytest.mark.subprocess]
OFF_REPORTS = ("merges switched off and verified", "merges are off, verified by reading back")


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[Stack]:
    with stack(database_url, tmp_path) as running:
        yield running


def live(world: Stack) -> tuple[bool, bool]:
    school = world.sim.school(SCHOOL)
    return school.nightly, school.realtime


def window(world: Stack) -> tuple[str, list[str]]:
    with world.sessions.begin() as s:
        found = s.get(Window, 1)
        assert found is not None
        return found.state, [e.status for e in found.environments]


def thread(world: Stack) -> list[str]:
    cards = [m for m in world.slack.messages.values() if m.thread_ts is None and "MW-1" in m.text]
    if not cards:
        return []
    return [m.text for m in world.slack.thread(cards[0].channel, cards[0].ts)]


def comments(world: Stack, fragment: str) -> int:
    """Activity comments on Merge Settings that contain ``fragment``."""
    return sum(fragment in c for c in world.sim.school(SCHOOL).comments)


def count(texts: list[str], fragments: tuple[str, ...]) -> int:
    return sum(any(f in t for f in fragments) for t in texts)


def check_invariants(world: Stack) -> None:
    with world.sessions.begin() as s:
        invariants.check(s, world.sim, {"prod": SCHOOL}, now=datetime.now(UTC))
    texts = thread(world)
    repeated = {t: n for t, n in Counter(texts).items() if n > 1}
    assert not repeated, f"a notice was posted twice: {repeated}"


def request_and_approve(world: Stack) -> None:
    bot = world.bot
    assert bot is not None
    bot.command(REQUESTER, "start prod 2h Banner patch", wait=False)
    assert world.slack.wait_for(lambda: any("MW-1" in c.text for c in bot.cards()))
    assert eventually(lambda: window(world)[0] == "requested" and _card_attached(world))
    bot.click(APPROVER, ids.APPROVE, "1", bot.card(1), wait=False)


def _card_attached(world: Stack) -> bool:
    with world.sessions.begin() as s:
        found = s.get(Window, 1)
        return found is not None and found.card_ts is not None


def switched_off(world: Stack) -> bool:
    return (
        window(world) == ("active", ["off"])
        and live(world) == (False, False)
        and count(thread(world), OFF_REPORTS) == 1
        and comments(world, "MW-1: merges switched off") == 1
    )


def restored(world: Stack) -> bool:
    return (
        window(world) == ("ended", ["restored"])
        and live(world) == (True, True)
        and count(thread(world), ("schedule restored and verified",)) == 1
        and comments(world, "MW-1: merges switched off") == 1
        and comments(world, "MW-1: SIS maintenance over") == 1
    )


@pytest.mark.parametrize("point", ["intent", "called", "outcome", "posted"])
def test_a_crash_while_switching_off_is_repaired_by_the_next_process(
    world: Stack, point: str
) -> None:
    world.start(crash_at=point)
    request_and_approve(world)
    assert world.killed(), world.log()

    world.start()
    assert eventually(lambda: switched_off(world)), (window(world), thread(world), world.log())
    assert world.sim.school(SCHOOL).writes == 1  # at most one effective change reached Coursedog
    check_invariants(world)
    with world.sessions.begin() as s:
        intents = s.scalars(
            select(RemoteWrite.status)
            .where(RemoteWrite.operation == "write_schedule")
            .order_by(RemoteWrite.id)
        ).all()
        recorded = s.scalars(select(AuditEvent.action).where(AuditEvent.window_id == 1)).all()
    expected = {
        "intent": ["unknown", "applied"],  # never sent; the next process sends it
        "called": ["unknown"],  # sent and applied; the next process reads it, sends nothing
        "outcome": ["applied"],
        "posted": ["applied"],
    }
    assert list(intents) == expected[point]
    assert recorded.count("baseline_recorded") == 1 and recorded.count("approved") == 1


@pytest.mark.parametrize("point", ["intent@2", "called@2", "outcome@2", "posted@2"])
def test_a_crash_while_restoring_is_repaired_by_the_next_process(world: Stack, point: str) -> None:
    world.start(crash_at=point)
    request_and_approve(world)
    assert eventually(lambda: switched_off(world)), world.log()
    assert world.bot is not None
    world.bot.command(REQUESTER, "end MW-1", wait=False)
    assert world.killed(), world.log()

    world.start()
    assert eventually(lambda: restored(world)), (window(world), thread(world), world.log())
    assert world.sim.school(SCHOOL).writes == 2  # one to switch off, one to restore
    check_invariants(world)


def test_a_crash_after_claiming_the_end_runs_the_end_once_after_restart(world: Stack) -> None:
    world.start(crash_at="claimed:end")
    request_and_approve(world)
    assert eventually(lambda: switched_off(world)), world.log()
    now = datetime.now(UTC)
    with world.sessions.begin() as s:  # the window's end comes now
        s.execute(update(Window).where(Window.id == 1).values(ends_at=now))
        s.execute(update(DueAction).where(DueAction.kind == "end").values(due_at=now))
    assert world.killed(), world.log()

    world.start()
    assert eventually(lambda: restored(world)), (window(world), thread(world), world.log())
    with world.sessions.begin() as s:
        end = s.scalars(select(DueAction).where(DueAction.kind == "end")).one()
        assert (end.status, end.attempts) == ("done", 2)
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.window_id == 1)).all()
    assert actions.count("ended") == 1
    assert count(thread(world), ("reached its end",)) == 1
    assert world.sim.school(SCHOOL).writes == 2
    check_invariants(world)


def test_a_crash_between_the_answer_and_the_card_posts_the_card_after_restart(
    world: Stack,
) -> None:
    bot = world.start(crash_at="card")
    try:
        answer = bot.command(REQUESTER, "start prod 2h Banner patch", wait=False)
    except httpx.TransportError:
        pass  # killed while the answer was on its way: the request was committed before it
    else:
        assert answer.status_code == 200 and "MW-1" in answer.json()["text"]
    assert world.killed(), world.log()
    assert window(world) == ("requested", ["pending"])
    assert not bot.cards()  # recorded, but nobody could approve it
    stale = datetime.now(UTC) - STALE_CLAIM - timedelta(seconds=1)
    with world.sessions.begin() as s:  # as if the restart came after the claim went stale
        s.execute(update(Window).where(Window.id == 1).values(requested_at=stale))
        claim = update(SlackNotice).where(SlackNotice.dedup_key == card_key(1))
        s.execute(claim.values(created_at=stale))

    bot = world.start()
    # The periodic pass (every 5 s here) takes the card over and posts it.
    assert eventually(lambda: _card_attached(world), timeout=60), world.log()
    assert sum("MW-1:" in c.text for c in bot.cards()) == 1
    bot.click(APPROVER, ids.APPROVE, "1", bot.card(1), wait=False)
    assert eventually(lambda: switched_off(world)), (window(world), thread(world), world.log())
    check_invariants(world)
