"""The Activity comment tells the truth: its "Before" is the baseline the ledger recorded, never
a later read, and it cites the notice to Coursedog only once that notice has gone out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.config import Settings, parse_settings
from bot.slack import ids
from coursedog.simulator_faults import Fault
from storage.models import AuditEvent, Baseline, CoursedogNotice
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot, settings_document

WAIT = 300  # seconds an owed comment waits for the notice (the default)


def settings(*, assisted: bool) -> Any:
    def factory(base_url: str) -> Settings:
        doc = settings_document(
            base_url,
            coursedog_notice={"to": "support@coursedog.example", "comment_wait_seconds": WAIT},
            assisted={"verify_reads": 1, "verify_every_seconds": 0},
        )
        if assisted:
            doc["environments"]["prod"]["driver"] = "assisted"
        return parse_settings(doc)

    return factory


def start(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))


def switched_off_by_hand(bot: Bot) -> None:
    """A person switches both merges off in Merge Settings; the bot's next pass reads it."""
    bot.sim.set_school("state_u_prod", {"nightly": False, "realtime": False})
    bot.runtime.worker.run_once()
    assert bot.settle()


def baseline(bot: Bot) -> tuple[bool, bool]:
    with bot.runtime.sessions() as session:
        row = session.scalars(select(Baseline)).one()
        return row.nightly, row.realtime


def to_paste(bot: Bot) -> list[str]:
    return [t for t in bot.thread(1) if "please add this comment" in t]


def test_assisted_comment_says_the_recorded_baseline_and_waits_for_the_notice(
    database_url: str,
) -> None:
    with running_bot(database_url, settings_factory=settings(assisted=True)) as bot:
        start(bot)  # the bot reads both merges on, records that, and opens the checklist
        assert baseline(bot) == (True, True)
        switched_off_by_hand(bot)  # before the bot reads again
        assert bot.runtime.windows.get(1).environments[0].status == "off"
        # Coursedog has not been told yet: there is nothing true to cite, so nothing to paste.
        assert to_paste(bot) == []
        bot.tick()  # no mail server: the notice is drafted in the thread
        [draft] = [m for m in bot.slack.messages.values() if "No mail server" in m.text]
        assert to_paste(bot) == []
        with bot.runtime.sessions() as session:
            notice_id = session.scalars(select(CoursedogNotice.id)).one()
        bot.click(REQUESTER, ids.NOTICE_SENT, str(notice_id), draft)
        # Sent: the comment to paste follows at once, with what was on before the window.
        [comment] = to_paste(bot)
        assert "Before: nightly on, real-time on; verified by reading back." in comment
        assert "Reference: notice to Coursedog support, sent by hand." in comment
        with bot.runtime.sessions() as session:
            handed = session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "activity_comment_handed_over")
            ).one()
        assert handed in comment  # the audit trail holds the words handed over


def test_api_comment_after_a_failed_write_fixed_by_hand_says_the_recorded_baseline(
    database_url: str,
) -> None:
    clock = ManualClock()
    with running_bot(database_url, settings_factory=settings(assisted=False), clock=clock) as bot:
        bot.sim.inject(
            Fault(kind="status", method="PUT", path_contains="Schedule", status=500, times=None)
        )
        start(bot)
        assert bot.runtime.windows.get(1).state == "failed"
        assert baseline(bot) == (True, True)
        bot.sim.clear_faults()
        switched_off_by_hand(bot)  # a person fixed it; the bot's pass verifies it
        assert bot.runtime.windows.get(1).state == "active"
        school = bot.sim.school("state_u_prod")
        assert school.writes == 0  # switched off by the person, not by the bot
        # The notice never went out (the scheduler did not run): after the wait, the comment
        # goes out all the same and says so.
        clock.advance(timedelta(seconds=WAIT))
        bot.runtime.worker.run_once()
        assert bot.settle()
        [comment] = school.comments
        assert "Before: nightly on, real-time on; verified by reading back." in comment
        assert comment.endswith("The notice to Coursedog support has not been sent yet.")
        assert "Message-ID" not in comment
