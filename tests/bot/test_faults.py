"""Coursedog misbehaving while the bot runs: each fault end to end, checked in three places.

Every test drives the running bot through its front door and then looks at the simulator (what
Coursedog holds and how often it was written), at Slack (the thread and the card) and at the
ledger (intent rows and the audit trail).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import pytest
from sqlalchemy import select

from bot.slack import ids
from coursedog.simulator_faults import Fault
from storage.models import AuditEvent, RemoteWrite
from tests.harness import APPROVER, PASSWORD, REQUESTER, Bot, running_bot

SCHEDULE = "integrationSchedule"
SESSIONS = "/api/v1/sessions"


@pytest.fixture
def waits() -> list[float]:
    """Every wait the Coursedog clients asked for, instead of really sleeping."""
    return []


@pytest.fixture
def bot(database_url: str, waits: list[float]) -> Iterator[Bot]:
    with running_bot(database_url, sleep=waits.append) as running:
        yield running


def approve(bot: Bot, text: str = "start prod 2h Banner patch") -> None:
    bot.command(REQUESTER, text)
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    assert bot.settle()


def prod(bot: Bot) -> tuple[bool, bool]:
    school = bot.sim.school("state_u_prod")
    return school.nightly, school.realtime


def schedule_writes(bot: Bot) -> list[RemoteWrite]:
    with bot.runtime.sessions.begin() as s:
        stmt = select(RemoteWrite).where(RemoteWrite.operation == "write_schedule")
        return list(s.scalars(stmt.order_by(RemoteWrite.id)))


def audit(bot: Bot) -> list[tuple[str, str]]:
    with bot.runtime.sessions.begin() as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id))
        return [(a, d) for a, d in rows]


def thread(bot: Bot) -> str:
    return "\n".join(bot.thread(1))


def put(**fault: Any) -> Fault:
    return Fault(method="PUT", path_contains=SCHEDULE, **fault)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_server_errors_then_success_switch_off_once(bot: Bot, method: str) -> None:
    # A read is retried by the client; a write that failed with 500 is read back first (it
    # may have been applied) and, found not applied, sent once more.
    bot.sim.inject(Fault(kind="status", method=method, path_contains=SCHEDULE, status=500))
    approve(bot)
    assert prod(bot) == (False, False)
    assert bot.sim.school("state_u_prod").writes == 1
    assert bot.sim.calls("PUT", SCHEDULE) == (2 if method == "PUT" else 1)
    text = thread(bot)
    assert "switched off and verified" in text and "could not" not in text
    assert bot.runtime.windows.get(1).state == "active"
    (write,) = schedule_writes(bot)
    assert write.status == "applied" and write.error is None
    written = [a for a, _ in audit(bot) if a.startswith("schedule_writ")]
    assert written == ["schedule_written"]


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_rate_limit_is_waited_out_and_the_write_goes_through(
    bot: Bot, waits: list[float], form: str
) -> None:
    retry_after = "7" if form == "seconds" else formatdate(time.time() + 8, usegmt=True)
    bot.sim.inject(put(kind="status", status=429, retry_after=retry_after))
    approve(bot)
    assert len(waits) == 1 and 5.0 <= waits[0] <= 8.0  # told to wait, and waited that long
    assert prod(bot) == (False, False) and bot.sim.school("state_u_prod").writes == 1
    assert bot.sim.calls("PUT", SCHEDULE) == 2  # the 429 said plainly it was not taken
    assert "switched off and verified" in thread(bot)
    assert [w.status for w in schedule_writes(bot)] == ["applied"]


def test_a_huge_retry_after_is_not_waited_and_a_person_is_told(
    bot: Bot, waits: list[float]
) -> None:
    bot.sim.inject(put(kind="status", status=429, retry_after="86400", times=None))
    approve(bot)
    assert waits == []  # never waits a day, and never more than the cap
    assert prod(bot) == (True, True) and bot.sim.school("state_u_prod").writes == 0
    text = thread(bot)
    assert "could not switch merges off" in text and "asked to wait 86400s" in text
    assert "needs a person" in text and "switched off and verified" not in text
    assert "Needs a person" in str(bot.card(1).blocks)
    assert bot.runtime.windows.get(1).state == "failed"
    (write,) = schedule_writes(bot)
    assert write.status == "failed" and "429" in (write.error or "")
    assert bot.sim.calls("PUT", SCHEDULE) == 1  # a refused write is not hammered in one pass

    bot.sim.clear_faults()
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert prod(bot) == (False, False)
    assert "back in effect" in bot.thread(1)[-2] or "back in effect" in bot.thread(1)[-1]
    assert bot.runtime.windows.get(1).state == "active"


def test_a_restore_whose_answer_is_lost_is_confirmed_by_reading_not_resent(bot: Bot) -> None:
    approve(bot)
    bot.sim.inject(put(kind="timeout_after_apply", hold=3.0))
    bot.command(REQUESTER, "end MW-1")
    assert bot.settle(timeout=20)
    assert prod(bot) == (True, True)
    assert bot.sim.calls("PUT", SCHEDULE) == 2  # one to switch off, one to restore: no resend
    assert bot.sim.school("state_u_prod").writes == 2
    assert "restored and verified" in thread(bot) and "could not" not in thread(bot)
    off, restore = schedule_writes(bot)
    assert (off.status, restore.status) == ("applied", "applied")
    assert restore.desired == {"nightly": True, "realtime": True}
    assert bot.runtime.windows.get(1).environments[0].status == "restored"


def test_a_write_dropped_before_it_was_applied_is_verified_and_sent_once_more(bot: Bot) -> None:
    bot.sim.inject(put(kind="drop_before_apply"))
    approve(bot)
    assert prod(bot) == (False, False)
    assert bot.sim.calls("PUT", SCHEDULE) == 2
    assert bot.sim.school("state_u_prod").writes == 1
    assert "switched off and verified" in thread(bot) and "could not" not in thread(bot)
    (write,) = schedule_writes(bot)
    assert write.status == "applied"
    (written,) = [d for a, d in audit(bot) if a == "schedule_written"]
    assert written == "nightly on, real-time on -> nightly off, real-time off"
    with bot.runtime.sessions.begin() as s:
        data = s.scalars(
            select(AuditEvent.data).where(AuditEvent.action == "schedule_written")
        ).one()
    assert data["sends"] == 2


def test_a_write_that_is_never_applied_is_sent_at_most_twice_per_pass(bot: Bot) -> None:
    bot.sim.inject(put(kind="drop_before_apply", times=None))
    approve(bot)
    assert bot.sim.calls("PUT", SCHEDULE) == 2
    assert prod(bot) == (True, True)
    text = thread(bot)
    assert "could not switch merges off" in text and "needs a person" in text
    assert "read-back shows nightly on, real-time on" in text


def test_a_long_outage_is_told_once_retried_boundedly_and_converges(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h")
    card = bot.wait_card(1)
    bot.sim.inject(Fault(kind="status", status=503, times=None))  # every Coursedog call
    bot.click(APPROVER, ids.APPROVE, "1", card)
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "failed"
    assert "Needs a person" in str(bot.card(1).blocks)
    for _ in range(5):
        before = len(bot.sim.requests)
        bot.runtime.worker.run_once()
        assert bot.settle()
        assert len(bot.sim.requests) - before <= 4  # bounded: a few tries per pass, no storm
    failures = [t for t in bot.thread(1) if "could not switch merges off" in t]
    assert len(failures) == 1 and "needs a person" in failures[0] and "503" in failures[0]
    assert bot.sim.school("state_u_prod").writes == 0

    bot.sim.clear_faults()
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert prod(bot) == (False, False) and bot.runtime.windows.get(1).state == "active"
    assert any("back in effect" in t for t in bot.thread(1))

    bot.sim.inject(Fault(kind="status", status=503, times=None))
    bot.command(REQUESTER, "end MW-1")
    for _ in range(3):
        bot.runtime.worker.run_once()
        assert bot.settle()
    restore_failures = [t for t in bot.thread(1) if "could not restore" in t]
    assert len(restore_failures) == 1 and "merges stay off" in restore_failures[0]
    assert "a person must set it back to nightly on, real-time on" in restore_failures[0]
    assert prod(bot) == (False, False)

    bot.sim.clear_faults()
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert prod(bot) == (True, True)
    assert "restored and verified" in thread(bot)
    assert [w.status for w in schedule_writes(bot)] == ["applied", "applied"]
    assert bot.sim.school("state_u_prod").writes == 2
    actions = [a for a, _ in audit(bot)]
    assert actions.count("reconcile_failed") >= 2 and actions[-2:] == [
        "baseline_restored",
        "activity_commented",
    ]


def test_a_revoked_session_logs_in_again_once_and_carries_on(bot: Bot) -> None:
    approve(bot)
    logins = bot.sim.calls("POST", SESSIONS)
    bot.sim.revoke_sessions()  # someone logged in to the web app as the service user
    bot.command(REQUESTER, "end MW-1")
    assert bot.settle()
    assert bot.sim.calls("POST", SESSIONS) == logins + 1
    assert prod(bot) == (True, True)
    assert "restored and verified" in thread(bot)
    assert [w.status for w in schedule_writes(bot)] == ["applied", "applied"]


def test_a_session_that_cannot_be_reopened_is_reported_without_the_password(bot: Bot) -> None:
    approve(bot)
    logins = bot.sim.calls("POST", SESSIONS)
    bot.sim.revoke_sessions()
    bot.sim.users = {email: "rotated-elsewhere" for email in bot.sim.users}
    bot.command(REQUESTER, "end MW-1")
    assert bot.settle()
    assert bot.sim.calls("POST", SESSIONS) == logins + 1  # one fresh login, then it reports
    last = bot.thread(1)[-1]
    assert "could not restore the schedule" in last
    assert "refused the login" in last and "check the service user's credentials" in last
    assert PASSWORD not in thread(bot) and "rotated-elsewhere" not in thread(bot)
    assert prod(bot) == (False, False) and bot.sim.calls("PUT", SCHEDULE) == 1
    assert "reconcile_failed" in [a for a, _ in audit(bot)]
