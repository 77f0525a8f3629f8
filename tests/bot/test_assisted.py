"""The assisted driver's checklist: a person switches; the bot reads where it can."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.config import parse_settings
from bot.sandbox.slack_api import Message
from bot.slack import ids
from storage.models import AssistedStep, Baseline
from tests.harness import (
    APPROVER,
    REQUESTER,
    STRANGER,
    Bot,
    buttons,
    running_bot,
    settings_document,
)


def assisted(*, reads: bool) -> Any:
    def factory(base_url: str) -> Any:
        doc = settings_document(base_url, assisted={"verify_reads": 3, "verify_every_seconds": 0})
        prod = doc["environments"]["prod"]
        prod["driver"] = "assisted"
        if not reads:
            del prod["email_env"], prod["password_env"]
        return parse_settings(doc)

    return factory


def start(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))


def checklist(bot: Bot, phase: str = "off") -> Message:
    card = bot.card(1)
    verb = "off" if phase == "off" else "back on"
    found = [
        m
        for m in bot.slack.thread(card.channel, card.ts)
        if f"switch merges {verb} by hand" in m.text
    ]
    assert len(found) == 1, bot.thread(1)
    return bot.slack.messages[found[0].ts]


def press(bot: Bot, user: str, step: str, *, phase: str = "off", was_off: bool = False) -> str:
    action = ids.CHECK_WAS_OFF if was_off else ids.CHECK_DONE
    bot.click(user, action, f"1|prod|{phase}|{step}", checklist(bot, phase))
    return str(bot.responses()[-1]["text"])


def prod(bot: Bot) -> tuple[bool, bool]:
    school = bot.sim.school("state_u_prod")
    return school.nightly, school.realtime


def steps(bot: Bot, phase: str) -> dict[str, tuple[str | None, str | None, bool | None]]:
    with bot.runtime.sessions() as session:
        rows = session.scalars(select(AssistedStep).where(AssistedStep.phase == phase))
        return {r.step: (r.done_by, r.checked, r.found) for r in rows}


def test_with_read_access_each_step_is_checked_by_reading(database_url: str) -> None:
    with running_bot(database_url, settings_factory=assisted(reads=True)) as bot:
        start(bot)
        message = checklist(bot)
        assert "/#/int/state_u_prod/merge-settings|Open Merge Settings>" in str(message.blocks)
        # nightly, real-time, save; and the way out when the settings are locked
        assert buttons(message) == [ids.CHECK_DONE] * 3 + [ids.CHECK_LOCKED]
        assert bot.sim.calls("PUT", "integrationSchedule") == 0

        assert "Only the requester" in press(bot, STRANGER, "nightly")
        assert "Mark each switch first" in press(bot, REQUESTER, "save")
        assert "checks it at Save" in press(bot, REQUESTER, "nightly")
        assert "already marked that step done" in press(bot, APPROVER, "nightly")
        assert "checks it at Save" in press(bot, APPROVER, "realtime")
        # Not saved in Coursedog yet: the read contradicts, so Save is refused after 3 reads.
        refusal = press(bot, REQUESTER, "save")
        assert "Not marked done: after 3 reads" in refusal and "nightly on" in refusal
        assert steps(bot, "off")["save"] == (None, None, None)
        notes = [str(c.args.get("blocks")) for c in bot.slack.calls_to("chat.update")]
        assert any("read 3 of 3" in n for n in notes)

        bot.sim.set_school("state_u_prod", {"nightly": False, "realtime": False})
        assert "verified by reading" in press(bot, REQUESTER, "save")
        assert bot.settle()
        done = steps(bot, "off")
        assert done["nightly"] == (REQUESTER, "read", None)
        assert done["realtime"] == (APPROVER, "read", None)
        assert done["save"] == (REQUESTER, "read", None)
        assert bot.runtime.windows.get(1).environments[0].status == "off"
        assert any("merges are off, verified by reading back" in t for t in bot.thread(1))
        assert ":white_check_mark: done by" in str(checklist(bot).blocks)

        # The comment to paste comes with a Posted button, recorded once.
        card = bot.card(1)
        [comment] = [
            m
            for m in bot.slack.thread(card.channel, card.ts)
            if "please add this comment" in m.text
        ]
        assert buttons(comment) == [ids.COMMENT_POSTED]
        bot.click(REQUESTER, ids.COMMENT_POSTED, "1|prod|off|comment", comment)
        answer = bot.responses()[-1]
        assert answer["replace_original"] is True and "Posted by" in str(answer["blocks"])
        assert steps(bot, "off")["comment"][0] == REQUESTER
        bot.click(APPROVER, ids.COMMENT_POSTED, "1|prod|off|comment", comment)
        assert "already marked" in bot.responses()[-1]["text"]

        # Restoring works the same way: only what was on comes back.
        bot.command(REQUESTER, "end MW-1")
        restore = checklist(bot, "restore")
        assert "*Yes*" in str(restore.blocks)
        assert "checks it at Save" in press(bot, REQUESTER, "nightly", phase="restore")
        press(bot, REQUESTER, "realtime", phase="restore")
        bot.sim.set_school("state_u_prod", {"nightly": True, "realtime": True})
        assert "verified by reading" in press(bot, REQUESTER, "save", phase="restore")
        assert bot.settle()
        assert bot.runtime.windows.get(1).environments[0].status == "restored"
        assert any("restored and verified" in t for t in bot.thread(1))
        assert bot.sim.calls("PUT", "integrationSchedule") == 0


def test_a_person_who_already_saved_gets_the_switch_verified_at_once(database_url: str) -> None:
    # Nightly off with real-time still on: only the assumed booleans can say so.
    factory = assisted(reads=True)
    with running_bot(database_url, settings_factory=factory, shape="assumed") as bot:
        start(bot)
        bot.sim.set_school("state_u_prod", {"nightly": False})
        assert "Verified by reading" in press(bot, REQUESTER, "nightly")
        assert steps(bot, "off")["nightly"] == (REQUESTER, "read", None)


def test_a_checklist_that_is_over_refuses_presses(database_url: str) -> None:
    with running_bot(database_url, settings_factory=assisted(reads=True)) as bot:
        start(bot)
        bot.command(REQUESTER, "end MW-1")
        assert "checklist of MW-1 is over" in press(bot, REQUESTER, "nightly")


def test_without_read_access_people_confirm_and_the_thread_says_so(database_url: str) -> None:
    with running_bot(database_url, settings_factory=assisted(reads=False)) as bot:
        start(bot)
        message = checklist(bot)
        assert "no read access" in message.text or "no read access" in str(message.blocks)
        assert buttons(message) == [
            ids.CHECK_DONE,
            ids.CHECK_WAS_OFF,
            ids.CHECK_DONE,
            ids.CHECK_WAS_OFF,
            ids.CHECK_DONE,
            ids.CHECK_LOCKED,
        ]
        assert "Recorded as your confirmation" in press(bot, REQUESTER, "nightly")
        press(bot, REQUESTER, "realtime", was_off=True)
        assert bot.runtime.windows.get(1).environments[0].status == "pending"
        press(bot, APPROVER, "save")
        assert bot.settle()
        assert bot.runtime.windows.get(1).environments[0].status == "off"
        confirmed = [t for t in bot.thread(1) if "as confirmed in the checklist" in t]
        assert confirmed and "cannot verify" in confirmed[0]
        assert "nightly on, real-time off" in confirmed[0]
        assert steps(bot, "off")["realtime"] == (REQUESTER, "confirmed", False)
        with bot.runtime.sessions() as session:
            baseline = session.scalars(select(Baseline)).one()
            assert (baseline.nightly, baseline.realtime) == (True, False)
        comment = [t for t in bot.thread(1) if "please add this comment" in t]
        assert comment and "confirmed by hand in the checklist" in comment[0]

        # The restore asks only for what was on: the nightly merge.
        bot.command(REQUESTER, "end MW-1")
        restore = checklist(bot, "restore")
        assert buttons(restore) == [ids.CHECK_DONE, ids.CHECK_DONE, ids.CHECK_LOCKED]
        press(bot, REQUESTER, "nightly", phase="restore")
        press(bot, REQUESTER, "save", phase="restore")
        assert bot.settle()
        assert bot.runtime.windows.get(1).environments[0].status == "restored"
        assert any("set back to nightly on, real-time off" in t for t in bot.thread(1))
        # Nothing read or written: the environment has no API user.
        assert bot.sim.calls("GET", "state_u_prod") == 0
        assert bot.sim.calls("PUT", "state_u_prod") == 0
        status = bot.command(REQUESTER, "status prod")
        assert status.status_code == 200
        assert bot.settle()
        assert "no read access" in str(bot.responses()[-1])


def test_merges_switched_on_again_by_hand_reopen_the_checklist(database_url: str) -> None:
    with running_bot(database_url, settings_factory=assisted(reads=True)) as bot:
        bot.sim.set_school("state_u_prod", {"realtime": False})
        start(bot)
        bot.sim.set_school("state_u_prod", {"nightly": False})
        bot.runtime.worker.run_once()
        assert bot.settle()
        assert bot.runtime.windows.get(1).environments[0].status == "off"
        # Someone turns both merges on during the window: both must go off again.
        bot.sim.set_school("state_u_prod", {"nightly": True, "realtime": True})
        bot.runtime.worker.run_once()
        assert bot.settle()
        card = bot.card(1)
        lists = [
            m
            for m in bot.slack.thread(card.channel, card.ts)
            if "switch merges off by hand" in m.text
        ]
        assert len(lists) == 2
        assert buttons(lists[-1]) == [ids.CHECK_DONE] * 3 + [ids.CHECK_LOCKED]
        bot.runtime.worker.run_once()
        assert bot.settle()  # read again: still on, but the reopened checklist is not repeated
        assert sum("switch merges off by hand" in t for t in bot.thread(1)) == 2
