"""The reconciler under races, outages, other replicas, and the assisted driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import parse_settings
from bot.services.outbox import owe
from bot.services.reconciler import ALL_OFF
from bot.services.reports import Report, ReportKind
from bot.slack import ids
from coursedog.models import Schedule
from coursedog.simulator_faults import Fault
from storage import leases
from storage.models import PendingReport, RemoteWrite, SlackNotice
from tests.harness import APPROVER, REQUESTER, STRANGER, Bot, running_bot, settings_document


def start_and_approve(bot: Bot, text: str = "start prod 2h", *, wait: bool = True) -> None:
    bot.command(REQUESTER, text)
    card = bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1", card, wait=wait)


def prod(bot: Bot) -> tuple[bool, bool]:
    school = bot.sim.school("state_u_prod")
    return school.nightly, school.realtime


def test_ending_while_the_switch_off_is_in_flight_restores_and_says_so(bot: Bot) -> None:
    bot.sim.inject(
        Fault(kind="delay", method="PUT", path_contains="integrationSchedule", delay=0.5)
    )
    start_and_approve(bot, wait=False)
    assert bot.slack.wait_for(lambda: bot.sim.calls("PUT", "integrationSchedule") == 1)
    bot.command(REQUESTER, "end MW-1")  # arrives while the write is still in flight
    assert bot.settle()
    assert prod(bot) == (True, True)
    window = bot.runtime.windows.get(1)
    assert window.state == "ended"
    assert [e.status for e in window.environments] == ["restored"]
    assert "restored and verified" in bot.thread(1)[-1]


def test_an_unreadable_moment_does_not_fail_a_verified_window(bot: Bot) -> None:
    start_and_approve(bot)
    before = len(bot.thread(1))
    bot.sim.inject(
        Fault(kind="status", method="GET", path_contains="integrationSchedule", status=503, times=2)
    )
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "active"
    assert len(bot.thread(1)) == before


def test_each_failure_episode_is_reported(bot: Bot) -> None:
    # A 500 on a write is read back, and sent once more if not applied: two 500s fail a pass.
    put = {
        "kind": "status",
        "method": "PUT",
        "path_contains": "integrationSchedule",
        "status": 500,
        "times": 2,
    }
    bot.sim.inject(Fault(**put))
    start_and_approve(bot)
    assert bot.runtime.windows.get(1).state == "failed"
    bot.runtime.worker.run_once()
    assert bot.settle() and bot.runtime.windows.get(1).state == "active"
    bot.sim.set_school("state_u_prod", {"nightly": True})
    bot.sim.inject(Fault(**put))
    bot.runtime.worker.run_once()
    assert bot.settle()
    failures = [t for t in bot.thread(1) if "could not switch merges off" in t]
    assert len(failures) == 2 and bot.runtime.windows.get(1).state == "failed"


def test_a_failed_restore_is_reported_and_retried_until_it_works(bot: Bot) -> None:
    start_and_approve(bot)
    bot.sim.inject(
        Fault(kind="status", method="PUT", path_contains="integrationSchedule", status=500, times=2)
    )
    bot.command(REQUESTER, "end MW-1")
    assert "could not restore the schedule" in bot.thread(1)[-1]
    assert prod(bot) == (False, False)
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert prod(bot) == (True, True)
    assert "restored and verified" in bot.thread(1)[-1]


def test_an_environment_leased_by_another_process_is_left_to_it(bot: Bot) -> None:
    now = datetime.now(UTC)
    with bot.runtime.sessions.begin() as s:
        assert leases.acquire_lease(s, "prod", "other-replica", now, timedelta(minutes=5))
    start_and_approve(bot)
    assert bot.sim.calls("PUT", "integrationSchedule") == 0
    with bot.runtime.sessions.begin() as s:
        leases.release_lease(s, "prod", "other-replica", 1)
    bot.runtime.worker.run_once()
    assert bot.settle() and prod(bot) == (False, False)


def test_an_intent_left_pending_by_a_crash_is_settled_by_reading(bot: Bot) -> None:
    start_and_approve(bot)
    with bot.runtime.sessions.begin() as s:
        s.add(
            RemoteWrite(
                environment="prod",
                operation="write_schedule",
                before=None,
                desired={"nightly": True, "realtime": True},
                status="pending",
                started_at=datetime.now(UTC),
            )
        )
    bot.sim.set_school("state_u_prod", {"realtime": True})  # the crashed write half-happened
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert prod(bot) == (False, False)
    with bot.runtime.sessions.begin() as s:
        writes = s.scalars(select(RemoteWrite).order_by(RemoteWrite.id)).all()
        statuses = [(w.operation, w.status) for w in writes]
    assert statuses == [
        ("write_schedule", "applied"),
        ("activity_comment", "applied"),
        ("write_schedule", "unknown"),  # left pending by the crash, settled by the read
        ("write_schedule", "applied"),
    ]


@pytest.mark.parametrize("claimed", [False, True])
def test_a_report_left_unposted_by_a_crash_is_posted_once_later(bot: Bot, claimed: bool) -> None:
    start_and_approve(bot)
    card = bot.card(1)
    # Committed with its outcome, then the process died: before claiming the notice, or after
    # claiming it but before Slack had it (the claim is then taken over once it is stale).
    report = Report(
        1, "prod", ReportKind.DRIFT_CORRECTED, Schedule(True, True), ALL_OFF, occurrence=99
    )
    with bot.runtime.sessions.begin() as s:
        owe(s, [report], datetime.now(UTC))
        if claimed:
            s.add(
                SlackNotice(
                    dedup_key=report.dedup_key,
                    channel=card.channel,
                    thread_ts=card.ts,
                    created_at=datetime.now(UTC) - timedelta(minutes=10),
                )
            )
    for _ in range(2):
        bot.runtime.worker.run_once()
        assert bot.settle()
    assert sum("Switched off again and verified" in t for t in bot.thread(1)) == 1
    with bot.runtime.sessions.begin() as s:
        assert s.scalars(select(PendingReport)).all() == []


def test_a_report_owed_for_more_than_a_day_is_given_up_and_the_rest_are_posted(bot: Bot) -> None:
    start_and_approve(bot)
    old, fresh = (
        Report(1, "prod", ReportKind.DRIFT_CORRECTED, Schedule(True, True), ALL_OFF, occurrence=n)
        for n in (98, 99)
    )
    with bot.runtime.sessions.begin() as s:
        owe(s, [old], datetime.now(UTC) - timedelta(days=1, minutes=1))
        owe(s, [fresh], datetime.now(UTC))
    assert bot.runtime.worker.run_once() == []
    assert bot.settle()
    assert sum("Switched off again and verified" in t for t in bot.thread(1)) == 1
    with bot.runtime.sessions.begin() as s:
        assert s.scalars(select(PendingReport)).all() == []
        notices = s.scalars(select(SlackNotice.dedup_key)).all()
    assert fresh.dedup_key in notices and old.dedup_key not in notices


def test_an_activity_comment_owed_when_the_process_died_is_posted_once_by_a_later_pass(
    bot: Bot,
) -> None:
    start_and_approve(bot)
    bot.command(REQUESTER, "end MW-1")
    assert bot.settle() and prod(bot) == (True, True)
    posted = bot.sim.calls("POST", "activity")
    # Owed with the restore's outcome, then the process died before claiming it.
    with bot.runtime.sessions.begin() as s:
        s.add(
            RemoteWrite(
                environment="prod",
                operation="activity_comment",
                window_id=1,
                before=None,
                desired={"phase": "restored", "text": "sis-maint MW-1: owed at the crash"},
                status="owed",
                started_at=datetime.now(UTC),
            )
        )
    # Nothing else holds prod any more: the owed comment alone puts it in play.
    assert bot.runtime.worker.environments_in_play() == {"prod"}
    for _ in range(2):
        bot.runtime.worker.run_once()
        assert bot.settle()
    assert bot.sim.calls("POST", "activity") == posted + 1
    assert bot.sim.school("state_u_prod").comments[-1] == "sis-maint MW-1: owed at the crash"
    assert bot.runtime.worker.environments_in_play() == set()
    with bot.runtime.sessions.begin() as s:
        statuses = s.scalars(
            select(RemoteWrite.status).where(RemoteWrite.operation == "activity_comment")
        ).all()
    assert list(statuses) == ["applied", "applied", "applied"]


def assisted(base_url: str) -> Any:
    doc = settings_document(base_url)
    doc["environments"]["prod"]["driver"] = "assisted"
    return parse_settings(doc)


def test_assisted_driver_asks_a_person_and_verifies_by_reading(database_url: str) -> None:
    with running_bot(database_url, settings_factory=assisted) as bot:
        start_and_approve(bot)
        assert "switch merges off by hand" in bot.thread(1)[-1]
        assert bot.sim.calls("PUT", "integrationSchedule") == 0
        bot.runtime.worker.run_once()
        assert bot.settle() and sum("by hand" in t for t in bot.thread(1)) == 1
        bot.sim.set_school("state_u_prod", {"nightly": False, "realtime": False})
        bot.runtime.worker.run_once()
        assert bot.settle()
        assert "merges are off, verified by reading back" in bot.thread(1)[-2]
        assert "please add this comment to Merge Settings" in bot.thread(1)[-1]
        bot.command(REQUESTER, "end MW-1")
        assert "switch merges back on by hand" in bot.thread(1)[-1]
        bot.sim.set_school("state_u_prod", {"nightly": True, "realtime": True})
        bot.runtime.worker.run_once()
        assert bot.settle()
        assert "restored and verified" in bot.thread(1)[-2]
        assert "SIS maintenance over" in bot.thread(1)[-1]
        assert bot.sim.calls("PUT", "integrationSchedule") == 0
        assert bot.sim.calls("POST", "activity") == 0  # a person posts it


def test_a_refused_activity_comment_is_handed_to_a_person_and_not_repeated(bot: Bot) -> None:
    bot.sim.inject(Fault(kind="status", method="POST", path_contains="activity", status=500))
    start_and_approve(bot, "start prod 2h Banner patch")
    last = bot.thread(1)[-1]
    assert "could not add the comment to Merge Settings" in last
    assert "MW-1: merges switched off on prod" in last
    assert prod(bot) == (False, False) and bot.runtime.windows.get(1).state == "active"
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert bot.sim.calls("POST", "activity") == 1  # one attempt per step, never repeated


def test_locked_settings_ask_for_coursedog_and_recover_when_it_acts(bot: Bot) -> None:
    bot.sim.set_school("state_u_prod", {"locked": True})
    start_and_approve(bot)
    last = bot.thread(1)[-1]
    assert "merge settings are locked" in last and "asks them to switch" in last
    assert bot.runtime.windows.get(1).state == "failed"
    bot.runtime.worker.run_once()
    assert bot.settle() and sum("asks them to switch" in t for t in bot.thread(1)) == 1
    bot.sim.set_school("state_u_prod", {"nightly": False, "realtime": False})  # Coursedog acts
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "active"
    bot.command(REQUESTER, "end MW-1")
    restore = [t for t in bot.thread(1) if "refused to restore" in t]
    assert len(restore) == 1 and "set them back to nightly on, real-time on" in restore[0]


@pytest.mark.parametrize("choice", ["restore", "leave"])
def test_a_saved_state_changed_during_the_window_is_not_guessed_at(bot: Bot, choice: str) -> None:
    start_and_approve(bot)
    bot.sim.set_school("state_u_prod", {"save_state_id": "ss-2", "nightly": True})
    bot.command(REQUESTER, "end MW-1")
    warning = thread_message(bot)
    assert "saved state changed during the window (ss-1 -&gt; ss-2)" in warning.text
    assert bot.sim.calls("PUT", "integrationSchedule") == 1  # nothing restored yet
    action = ids.SAVE_STATE_RESTORE if choice == "restore" else ids.SAVE_STATE_LEAVE
    bot.click(STRANGER, action, "prod", warning)
    assert any("Only the requester" in r["text"] for r in bot.responses())
    bot.click(REQUESTER, action, "prod", warning)
    if choice == "restore":
        assert prod(bot) == (True, True) and "restored and verified" in bot.thread(1)[-1]
    else:
        assert prod(bot) == (True, False) and "left as it is" in bot.thread(1)[-1]
    assert bot.runtime.windows.get(1).environments[0].status == "restored"
    bot.click(APPROVER, action, "prod", warning)
    assert any("waiting for that choice any more" in r["text"] for r in bot.responses())


def thread_message(bot: Bot) -> Any:
    card = bot.card(1)
    return bot.slack.thread(card.channel, card.ts)[-1]


def test_a_session_revoked_mid_window_logs_in_again_once(bot: Bot) -> None:
    start_and_approve(bot)
    logins = bot.sim.calls("POST", "sessions")
    bot.sim.revoke_sessions()  # someone logged into the web app as the service user
    bot.command(REQUESTER, "end MW-1")
    assert prod(bot) == (True, True)
    assert bot.sim.calls("POST", "sessions") == logins + 1
    assert "restored and verified" in " ".join(bot.thread(1))


def test_a_login_refused_mid_window_is_reported_not_retried_in_a_loop(bot: Bot) -> None:
    start_and_approve(bot)
    logins = bot.sim.calls("POST", "sessions")
    bot.sim.revoke_sessions()
    bot.sim.users = {}  # the service user's password was changed
    bot.command(REQUESTER, "end MW-1")
    last = bot.thread(1)[-1]
    assert "could not" in last and "401" in last
    assert bot.runtime.windows.get(1).environments[0].status == "restore_failed"
    assert bot.sim.calls("POST", "sessions") == logins + 1  # one login, then the report
    assert prod(bot) == (False, False)
