"""Copies of a signed request (same body, timestamp and signature) within Slack's five minutes:
answered, but acting once, across restarts too."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.slack import ids
from bot.slack.errors import ALREADY_DONE
from bot.slack.text import slack_time
from storage import replay
from storage.models import AuditEvent, BlackoutPeriod, CoursedogNotice, ReplayKey, Window
from tests.harness import APPROVER, REQUESTER, Bot, running_bot


def approved_window(bot: Bot) -> datetime:
    """MW-1 on prod, approved and active; returns its end."""
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    ends_at = bot.runtime.windows.get(1).ends_at
    assert ends_at is not None
    return ends_at


def count(bot: Bot, what: object, *where: object) -> int:
    with bot.runtime.sessions.begin() as session:
        return int(session.scalar(select(func.count()).select_from(what).where(*where)))  # type: ignore[arg-type]


def text_of(response: object) -> str:
    assert getattr(response, "status_code", None) == 200
    return str(response.json().get("text", ""))  # type: ignore[attr-defined]


def test_an_extend_sent_six_times_extends_once_and_tells_coursedog_once(bot: Bot) -> None:
    ends_at = approved_window(bot)
    first = text_of(bot.command(REQUESTER, "extend MW-1 4h"))
    copies = [text_of(bot.replay()) for _ in range(5)]
    assert "MW-1 extended by 4h" in first
    assert copies == [ALREADY_DONE] * 5
    assert bot.runtime.windows.get(1).ends_at == ends_at + timedelta(hours=4)
    assert count(bot, CoursedogNotice, CoursedogNotice.event == "extended") == 1
    assert count(bot, AuditEvent, AuditEvent.action == "extended") == 1
    assert sum("extended MW-1 by 4h" in t for t in bot.thread(1)) == 1


def test_six_copies_sent_at_once_extend_once(bot: Bot) -> None:
    """Copies in flight together: the database makes each wait for the first's outcome."""
    ends_at = approved_window(bot)
    body, now = bot.command_body(REQUESTER, "extend MW-1 4h"), int(time.time())
    together = threading.Barrier(6)

    def send(_: int) -> str:
        together.wait()
        return text_of(bot.post(body, "application/x-www-form-urlencoded", timestamp=now))

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, range(6)))
    assert bot.settle()
    new_end = ends_at + timedelta(hours=4)
    assert sorted(answers) == sorted(
        [
            ":heavy_plus_sign: MW-1 extended by 4h; it now ends at "
            + slack_time(new_end, bot.runtime.windows.get(1).time_zone)
            + "."
        ]
        + [ALREADY_DONE] * 5
    )
    assert bot.runtime.windows.get(1).ends_at == ends_at + timedelta(hours=4)
    assert count(bot, CoursedogNotice, CoursedogNotice.event == "extended") == 1


def test_a_copy_sent_after_a_restart_still_acts_not_at_all(bot: Bot) -> None:
    ends_at = approved_window(bot)
    bot.command(REQUESTER, "extend MW-1 4h")
    bot.restart()
    assert text_of(bot.replay()) == ALREADY_DONE
    assert bot.runtime.windows.get(1).ends_at == ends_at + timedelta(hours=4)
    assert count(bot, CoursedogNotice, CoursedogNotice.event == "extended") == 1


def test_a_start_sent_twice_requests_one_window_with_one_card(bot: Bot) -> None:
    assert "MW-1" in text_of(bot.command(REQUESTER, "start prod 2h Banner patch"))
    assert text_of(bot.replay()) == ALREADY_DONE
    bot.wait_card(1)
    assert count(bot, Window) == 1 and len(bot.cards()) == 1


def test_a_blackout_added_twice_is_added_once(bot: Bot) -> None:
    bot.command(APPROVER, "blackout add 2026-12-20 until 2026-12-24 Registration")
    assert text_of(bot.replay()) == ALREADY_DONE
    assert count(bot, BlackoutPeriod) == 1


def test_a_replayed_approve_click_approves_once(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.replay().status_code == 200
    assert count(bot, AuditEvent, AuditEvent.action == "approved") == 1
    assert bot.sim.school("state_u_prod").writes == 1
    assert sum("approved" in t.lower() for t in bot.thread(1)[:1]) == 1


def test_a_replayed_read_is_answered_again(bot: Bot) -> None:
    first = text_of(bot.command(REQUESTER, "list"))
    assert text_of(bot.replay()) == first
    assert count(bot, ReplayKey) == 0  # a request that changes nothing claims nothing


def test_a_request_that_failed_can_be_sent_again(bot: Bot) -> None:
    """A refusal rolls its claim back with it: a copy is refused for the same reason."""
    first = text_of(bot.command(REQUESTER, "extend MW-9 1h"))
    assert "MW-9" in first and text_of(bot.replay()) == first
    assert count(bot, ReplayKey) == 0


def test_spent_keys_are_forgotten_by_the_periodic_chores(bot: Bot) -> None:
    """The chores read the wall clock (keys expire with Slack's signature timestamps, not the
    ledger's clock): it is frozen on either side of the key's expiry."""
    bot.command(REQUESTER, "start prod 2h Banner patch")
    with bot.runtime.sessions.begin() as session:
        (key,) = session.scalars(select(ReplayKey)).all()
    assert key.expires_at > datetime.now(UTC) + timedelta(minutes=5)
    chores = bot.runtime.worker.chores
    assert chores is not None
    with freeze_time(key.expires_at - timedelta(seconds=1)):
        chores()
    assert count(bot, ReplayKey) == 1  # a copy could still pass the signature check
    with freeze_time(key.expires_at + timedelta(seconds=1)):
        chores()
    assert count(bot, ReplayKey) == 0


def test_two_writes_of_one_request_claim_its_key_once(database_url: str) -> None:
    """The claim rides on the first transaction that writes; later ones do not claim again."""
    with running_bot(database_url) as bot:
        sessions = bot.runtime.sessions
        until = datetime.now(UTC) + timedelta(minutes=6)
        with replay.acting_once("k" * 64, until):
            with sessions.begin() as session:
                session.add(ReplayKey(key="a" * 64, expires_at=until))
            with sessions.begin() as session:
                session.add(ReplayKey(key="b" * 64, expires_at=until))
        copy = replay.acting_once("k" * 64, until)
        with copy, pytest.raises(replay.Replayed), sessions.begin() as session:
            session.add(ReplayKey(key="c" * 64, expires_at=until))
        assert count(bot, ReplayKey) == 3  # k, a, b: not c


def test_a_claim_rolled_back_with_its_write_is_made_again_by_the_next_write(
    database_url: str,
) -> None:
    with running_bot(database_url) as bot:
        sessions = bot.runtime.sessions
        until = datetime.now(UTC) + timedelta(minutes=6)
        with replay.acting_once("k" * 64, until) as claim:
            with pytest.raises(RuntimeError), sessions.begin() as session:
                session.add(ReplayKey(key="a" * 64, expires_at=until))
                session.flush()
                assert claim.held
                raise RuntimeError("the write fails after its claim")
            assert not claim.held and count(bot, ReplayKey) == 0
            with sessions.begin() as session:
                session.add(ReplayKey(key="b" * 64, expires_at=until))
        assert count(bot, ReplayKey) == 2  # k and b
