"""The walking skeleton through the front door: signed requests, real HTTP, real databases."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.slack import ids
from coursedog.simulator_faults import Fault
from storage.models import AuditEvent, Baseline, RemoteWrite
from tests.harness import (
    APPROVALS,
    APPROVER,
    APPROVER_2,
    REQUESTER,
    STRANGER,
    Bot,
    buttons,
    running_bot,
)


def ephemeral(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("response_type") == "ephemeral"
    return str(body.get("text", ""))


def test_request_approve_and_switch_off_then_end_restores_baseline(bot: Bot) -> None:
    reply = ephemeral(bot.command(REQUESTER, "start prod 2h Banner patch"))
    assert "MW-1" in reply and "`prod`" in reply and "2h" in reply

    card = bot.wait_card(1)
    assert card.channel == APPROVALS
    text = str(card.blocks)
    for expected in ("MW-1", "Production", "Banner patch", f"<@{REQUESTER}>"):
        assert expected in text
    assert buttons(card) == [ids.APPROVE, ids.DENY, ids.CANCEL]
    assert bot.sim.school("state_u_prod").schedule.nightly is True

    assert bot.click(APPROVER, ids.APPROVE, "1").status_code == 200
    assert bot.settle()
    prod = bot.sim.school("state_u_prod")
    assert (prod.nightly, prod.realtime) == (False, False)
    card = bot.card(1)
    assert buttons(card) == [ids.EXTEND_60, ids.END_NOW] and f"Approved by <@{APPROVER}>" in str(
        card.blocks
    )
    thread = "\n".join(bot.thread(1))
    assert "switched off and verified" in thread
    assert "Was nightly on, real-time on" in thread

    reply = ephemeral(bot.command(REQUESTER, "end MW-1"))
    assert "Ending *MW-1*" in reply
    assert bot.settle()
    prod = bot.sim.school("state_u_prod")
    assert (prod.nightly, prod.realtime) == (True, True)
    assert "restored and verified" in "\n".join(bot.thread(1))
    assert prod.writes == 2


def test_two_environments_switch_off_only_what_was_on_and_restore_exactly_that(bot: Bot) -> None:
    assert "MW-1" in ephemeral(bot.command(REQUESTER, "start prod,staging 90m"))
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    staging = bot.sim.school("state_u_staging")
    assert (staging.nightly, staging.realtime) == (False, False)
    thread = "\n".join(bot.thread(1))
    assert "`staging` (Staging)" in thread and "Was nightly on, real-time off" in thread

    ephemeral(bot.command(APPROVER_2, "end mw-1"))  # an approver may end someone else's window
    assert bot.settle()
    staging = bot.sim.school("state_u_staging")
    prod = bot.sim.school("state_u_prod")
    assert (staging.nightly, staging.realtime) == (True, False)
    assert (prod.nightly, prod.realtime) == (True, True)


def test_environment_with_nothing_on_is_not_written(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start sandbox 45m"))
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    assert "no merge schedule was on" in "\n".join(bot.thread(1))
    ephemeral(bot.command(REQUESTER, "end sandbox"))
    assert bot.settle()
    assert bot.sim.school("state_u_sandbox").writes == 0
    assert bot.sim.calls("PUT", "integrationSchedule") == 0


def test_deny_updates_card_and_tells_the_requester(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    bot.wait_card(1)
    bot.deny(APPROVER, 1)
    card = bot.card(1)
    assert buttons(card) == [] and f"Denied by <@{APPROVER}>" in str(card.blocks)
    dms = bot.slack.direct_messages(REQUESTER)
    assert len(dms) == 1 and "MW-1 was denied" in dms[0].text
    assert bot.sim.school("state_u_prod").writes == 0
    # Ending a denied window is refused with the reason.
    assert "denied, so there is nothing to end" in ephemeral(bot.command(REQUESTER, "end MW-1"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "start nowhere 2h",
            "no environment called `nowhere`. Known: `prod`, `sandbox`, `staging`",
        ),
        ("start prod two-hours", "`two-hours` is not a duration"),
        ("start prod 0m", "at least one minute"),
        ("start prod 3d", "longer than prod allows (2d)"),
        ("start staging 4d", "longer than staging allows (3d)"),
        ("start prod", "Say for how long"),
        ("end MW-99", "There is no window MW-99"),
        ("end prod", "No window holds prod off right now"),
        ("end", "Say which window to end"),
    ],
)
def test_bad_input_gets_a_specific_message_and_changes_nothing(
    bot: Bot, text: str, expected: str
) -> None:
    assert expected in ephemeral(bot.command(REQUESTER, text))
    assert bot.settle()
    assert bot.cards() == []
    assert bot.sim.school("state_u_prod").writes == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("edn MW-1", "`edn` is not a command I know. Did you mean `end`? `/sis-maint help end`"),
        ("stop prod", "`stop` is not a command I know. Did you mean `end`?"),
        ("stat", "Did you mean `status` or `start`?"),
        ("frobnicate prod", "`frobnicate` is not a command I know. The commands are `start`"),
    ],
)
def test_unknown_subcommand_offers_the_closest_commands(bot: Bot, text: str, expected: str) -> None:
    body = bot.command(REQUESTER, text).json()
    assert body["response_type"] == "ephemeral"
    assert expected in body["text"]
    # The closest commands, not the whole help.
    assert "blocks" not in body and "Banner" not in str(body)


def test_help_is_a_short_overview_naming_the_environments(bot: Bot) -> None:
    body = bot.command(REQUESTER, "help").json()
    assert body["response_type"] == "ephemeral"
    text = str(body["blocks"])
    for fragment in (
        "`prod` (also `production`): Production; times in America/New_York; windows up to 2d",
        "`staging`: Staging; times in America/New_York; windows up to 3d",
        "`sandbox`: Sandbox",
        "`start &lt;env&gt; &lt;duration&gt; [reason]`  switch merges off now",
        "`end &lt;MW-n | env&gt;`",
        "`/sis-maint help schedule`",
        "1h30m",
    ):
        assert fragment in text
    assert "Examples" not in text and "every mon,thu" not in text
    assert len(text) < 2500


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (
            "help start",
            (
                "*start*: switch merges off now",
                "start &lt;env&gt;[,&lt;env&gt;] &lt;duration&gt; [reason]",
                "start prod,staging 90m",
                "1h30m",
            ),
        ),
        ("help END", ("end &lt;MW-n | env&gt;", "`/sis-maint end prod`", "end S-n")),
        ("help schedule", ("every &lt;days&gt;", "America/Chicago", "the request expires")),
        ("? blackouts", ("blackout remove &lt;B-n&gt;", "help override")),
    ],
)
def test_help_on_a_command_gives_its_details(
    bot: Bot, text: str, fragments: tuple[str, ...]
) -> None:
    body = bot.command(REQUESTER, text).json()
    assert body["response_type"] == "ephemeral"
    shown = str(body["blocks"])
    for fragment in fragments:
        assert fragment in shown
    assert "*Environments*" not in shown


def test_help_on_an_unknown_command_says_which_are_close(bot: Bot) -> None:
    text = ephemeral(bot.command(REQUESTER, "help extnd"))
    assert "There is no help on `extnd`. Did you mean `extend`" in text


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (STRANGER, "You are not an approver for prod"),
        (REQUESTER, "not an approver"),
    ],
)
def test_only_an_approver_other_than_the_requester_may_decide(
    bot: Bot, user: str, expected: str
) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    bot.wait_card(1)
    assert bot.click(user, ids.APPROVE, "1").status_code == 200
    assert bot.settle()
    assert any(expected in r["text"] for r in bot.responses())
    assert buttons(bot.card(1)) == [ids.APPROVE, ids.DENY, ids.CANCEL]
    assert bot.sim.school("state_u_prod").writes == 0


def test_approver_cannot_approve_own_request(bot: Bot) -> None:
    ephemeral(bot.command(APPROVER, "start prod 2h"))
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    assert any(
        "You requested MW-1, so another approver must approve it" in r["text"]
        for r in bot.responses()
    )
    assert bot.sim.school("state_u_prod").writes == 0


def test_stranger_cannot_end_someone_elses_window(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    assert "Only the requester" in ephemeral(bot.command(STRANGER, "end MW-1"))
    assert bot.sim.school("state_u_prod").nightly is False


def test_second_click_on_a_decided_card_is_refused(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    card = bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1", card)
    assert bot.settle()
    bot.click(APPROVER_2, ids.DENY, "1", card)
    assert bot.settle()
    assert any(f"MW-1 was already active by <@{APPROVER}>" in r["text"] for r in bot.responses())
    assert bot.sim.school("state_u_prod").writes == 1


def test_simultaneous_clicks_make_one_decision_and_one_write(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    card = bot.wait_card(1)
    clickers = [APPROVER, APPROVER_2] * 5
    with ThreadPoolExecutor(len(clickers)) as pool:
        statuses = list(
            pool.map(lambda u: bot.click(u, ids.APPROVE, "1", card).status_code, clickers)
        )
    assert statuses == [200] * len(clickers)
    assert bot.settle()
    refusals = [r for r in bot.responses() if "was already active" in r["text"]]
    assert len(refusals) == len(clickers) - 1
    assert bot.sim.school("state_u_prod").writes == 1
    approvals = [t for t in bot.thread(1) if t.startswith("Approved by")]
    assert len(approvals) == 1


def test_coursedog_error_marks_window_failed_and_never_claims_success(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    bot.wait_card(1)
    bot.sim.inject(
        Fault(
            method="PUT", path_contains="integrationSchedule", kind="status", status=500, times=10
        )
    )
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    thread = "\n".join(bot.thread(1))
    assert "could not switch merges off" in thread and "500" in thread
    assert "switched off and verified" not in thread
    assert "needs a person" in thread
    assert "Needs a person" in str(bot.card(1).blocks)
    assert bot.sim.school("state_u_prod").nightly is True
    assert bot.runtime.windows.get(1).state == "failed"


def test_coursedog_timeout_after_applying_is_settled_by_reading(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    bot.wait_card(1)
    bot.sim.inject(
        Fault(
            method="PUT", path_contains="integrationSchedule", kind="timeout_after_apply", hold=3.0
        )
    )
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle(timeout=20)
    assert "switched off and verified" in "\n".join(bot.thread(1))
    assert bot.sim.calls("PUT", "integrationSchedule") == 1
    assert bot.runtime.windows.get(1).state == "active"


def test_failed_window_recovers_on_the_next_pass(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    bot.wait_card(1)
    bot.sim.inject(
        Fault(method="GET", path_contains="integrationSchedule", kind="status", status=503, times=2)
    )
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "failed"
    bot.runtime.worker.run_once()
    assert bot.settle()
    assert bot.runtime.windows.get(1).state == "active"
    assert "back in effect" in "\n".join(bot.thread(1))


@pytest.mark.parametrize("problem", ["bad-signature", "stale"])
def test_forged_or_stale_signature_is_rejected(bot: Bot, problem: str) -> None:
    body = urlencode({"command": ids.COMMAND, "text": "start prod 2h", "user_id": REQUESTER})
    if problem == "bad-signature":
        response = bot.post(body, "application/x-www-form-urlencoded", secret="wrong")
    else:
        response = bot.post(
            body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 3600
        )
    assert response.status_code == 401
    assert bot.slack.calls == [] or bot.cards() == []


def test_end_by_environment_when_window_covers_several_asks_for_the_number(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod,staging 2h"))
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    assert "also covers staging; `end MW-1` ends it on all of them" in ephemeral(
        bot.command(REQUESTER, "end prod")
    )


def test_card_that_cannot_be_posted_withdraws_the_request(database_url: str) -> None:
    with running_bot(database_url) as bot:
        bot.slack.fail("chat.postMessage", "not_in_channel")
        assert "MW-1" in ephemeral(bot.command(REQUESTER, "start prod 2h"))
        assert bot.settle()
        assert any(
            "withdrawn" in r["text"] and "not_in_channel" in r["text"] for r in bot.responses()
        )
        assert bot.runtime.windows.get(1).state == "cancelled"


def test_overlapping_windows_keep_merges_off_until_the_last_one_ends(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h first"))
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    bot.sim.set_school("state_u_prod", {"nightly": False, "realtime": False})
    ephemeral(bot.command(REQUESTER, "start prod,staging 3h second"))
    bot.wait_card(2)
    bot.click(APPROVER, ids.APPROVE, "2")
    assert bot.settle()

    assert "held by MW-1 and MW-2; say which one" in ephemeral(bot.command(REQUESTER, "end prod"))
    ephemeral(bot.command(REQUESTER, "end MW-1"))
    assert bot.settle()
    prod = bot.sim.school("state_u_prod")
    assert (prod.nightly, prod.realtime) == (False, False)
    assert "stays off, because MW-2 still holds it" in "\n".join(bot.thread(1))

    ephemeral(bot.command(REQUESTER, "end MW-2"))
    assert bot.settle()
    prod = bot.sim.school("state_u_prod")
    # The baseline is the one read before the first window, not the state the second one saw.
    assert (prod.nightly, prod.realtime) == (True, True)
    assert "restored and verified" in "\n".join(bot.thread(2))


def test_ledger_explains_every_remote_change(bot: Bot) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h Banner patch"))
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    ephemeral(bot.command(REQUESTER, "end MW-1"))
    assert bot.settle()
    with bot.runtime.sessions.begin() as s:
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        writes = list(s.scalars(select(RemoteWrite).order_by(RemoteWrite.id)))
        baselines = list(s.scalars(select(Baseline)))
        assert actions == [
            "requested",
            "approved",
            "baseline_recorded",
            "schedule_written",
            "activity_commented",
            "ended",
            "schedule_written",
            "baseline_restored",
            "activity_commented",
        ]
        schedule_writes = [w for w in writes if w.operation == "write_schedule"]
        assert [(w.status, w.desired) for w in schedule_writes] == [
            ("applied", {"nightly": False, "realtime": False}),
            ("applied", {"nightly": True, "realtime": True}),
        ]
        assert [w.status for w in writes if w.operation == "activity_comment"] == ["applied"] * 2
        assert len(baselines) == 1 and baselines[0].released_at is not None
    assert bot.sim.school("state_u_prod").writes == len(schedule_writes)
    comments = bot.sim.school("state_u_prod").comments
    assert len(comments) == 2 and "MW-1" in comments[0] and "Banner patch" in comments[0]
    assert "restored to nightly on, real-time on" in comments[1]


def test_an_unexpected_error_shows_a_reference_that_is_in_the_log(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.runtime.windows, "request", broken)
    text = ephemeral(bot.command(REQUESTER, "start prod 1h"))
    assert "Something unexpected went wrong (reference `" in text
    assert "database on fire" not in text
    reference = text.split("`")[1]
    assert any(reference in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("how", ["command", "button"])
def test_a_restore_that_needed_no_write_does_not_claim_what_was_on_during_the_window(
    bot: Bot, how: str
) -> None:
    ephemeral(bot.command(REQUESTER, "start prod 2h"))
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    # Someone switches merges back on by hand just before the end; nothing is left to write.
    bot.sim.set_school("state_u_prod", {"nightly": True, "realtime": True})

    if how == "command":
        ephemeral(bot.command(REQUESTER, "end MW-1"))
    else:
        bot.click(REQUESTER, ids.REENABLE, "1")
    assert bot.settle()

    restored = [t for t in bot.thread(1) if "restored and verified" in t]
    assert len(restored) == 1
    assert "as it was found when read, so nothing had to be written now" in restored[0]
    assert "during the window:" not in restored[0]
    assert bot.sim.calls("PUT", "integrationSchedule") == 1
