"""Step 1 of the runbook: the notice to Coursedog, by email through a real local SMTP server."""

from __future__ import annotations

import email
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from bot.config import parse_settings
from bot.errors import ConfigError
from bot.sandbox.slack_api import Message
from bot.services import notices as notices_service
from bot.slack import ids
from bot.slack.text import escape
from coursedog.simulator_faults import Fault
from storage import windows
from storage.models import AuditEvent, CoursedogNotice, DueAction
from tests.harness import (
    APPROVER,
    REQUESTER,
    STRANGER,
    Bot,
    ManualClock,
    buttons,
    running_bot,
    settings_document,
)

SUPPORT = "support@coursedog.example"
SMTP_USER = "mailer@state-u.example"
SMTP_SECRET = "smtp-secret-0xC0FFEE"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts.

    ``watch``, when set, is asked as each message arrives; its answers are in ``seen``.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.watch: Callable[[], object] | None = None
        self.seen: list[object] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(parsed, EmailMessage)
        with self._cond:
            if self.watch is not None:
                self.seen.append(self.watch())
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until ``count`` messages have arrived, or ``timeout`` seconds have passed."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.messages) >= count, timeout)


def _authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_SECRET.encode(),
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def notice_config(port: int | None, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"to": SUPPORT, "sender": "registrar@state-u.example", **extra}
    if port is not None:
        config.update(smtp_host="127.0.0.1", smtp_port=port, starttls=False)
    return config


@pytest.fixture
def mail_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_USER", SMTP_USER)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_SECRET)


def bot_with(
    database_url: str,
    notice: dict[str, Any] | None,
    clock: ManualClock | None = None,
    **settings: Any,
) -> Any:
    overrides = {"coursedog_notice": notice, **settings} if notice is not None else settings
    return running_bot(
        database_url,
        settings_factory=lambda url: parse_settings(settings_document(url, **overrides)),
        clock=clock or ManualClock(),
    )


def approve(bot: Bot, text: str = "start prod 2h Banner patch") -> None:
    bot.slack.names.update({REQUESTER: "Rita Requester", APPROVER: "Alan Approver"})
    bot.command(REQUESTER, text)
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))


def notices(bot: Bot) -> list[CoursedogNotice]:
    with bot.runtime.sessions() as session:
        return list(session.scalars(select(CoursedogNotice).order_by(CoursedogNotice.id)))


def thread_message(bot: Bot, needle: str) -> Message:
    card = bot.card(1)
    found = [m for m in bot.slack.thread(card.channel, card.ts) if needle in m.text]
    assert found, f"no thread message with {needle!r}: {bot.thread(1)}"
    return found[-1]


def test_approval_emails_coursedog_and_the_comment_cites_the_message_id(
    database_url: str, smtp: tuple[Inbox, int], mail_env: None
) -> None:
    inbox, port = smtp
    config = notice_config(port, username_env="SMTP_USER", password_env="SMTP_PASSWORD")
    with bot_with(database_url, config) as bot:
        approve(bot)
        # Switched off, but Coursedog has not been told yet: nothing to cite, so no comment.
        assert bot.sim.school("state_u_prod").comments == []
        bot.tick()
        assert len(inbox.messages) == 1
        mail = inbox.messages[0]
        assert mail["To"] == SUPPORT and mail["From"] == "registrar@state-u.example"
        assert "MW-1" in mail["Subject"] and "prod" in mail["Subject"]
        body = mail.get_content()
        assert "school id state_u_prod" in body and "127.0.0.1" in body
        # 2026-12-05 15:00 UTC is 10:00 in New York (EST, UTC-05:00).
        lines = body.splitlines()
        assert "From: Sat 5 Dec 2026 10:00 EST (UTC-05:00)" in lines
        assert "To:   Sat 5 Dec 2026 12:00 EST (UTC-05:00)" in lines  # one form, not two
        assert "Rita Requester (@rita.requester)" in body
        assert "Alan Approver (@alan.approver)" in body
        assert "Reason: Banner patch" in body
        [row] = notices(bot)
        assert (row.status, row.message_id) == ("sent", mail["Message-ID"].strip())
        assert row.body == body.replace("\r\n", "\n").rstrip("\n")
        told = thread_message(bot, "Told Coursedog support")
        assert f"Message-ID `{escape(row.message_id)}`" in told.text
        # The emoji is in what Slack shows; the notification text has no code to show as typed.
        assert told.blocks[0]["text"]["text"].startswith(":envelope: Told Coursedog support")
        assert ":envelope:" not in told.text
        comments = bot.sim.school("state_u_prod").comments
        assert comments and row.message_id in comments[0]
        assert bot.tick() == 0 and len(inbox.messages) == 1  # sent once


def test_a_notice_is_planned_once_per_window_and_event(database_url: str) -> None:
    clock = ManualClock()
    with bot_with(database_url, notice_config(None), clock) as bot:
        approve(bot)  # plans the notice of the approval
        runtime = bot.runtime
        with runtime.sessions.begin() as session:
            window = windows.get_window(session, 1)
            assert window is not None
            now = clock.now()
            again = notices_service.plan(session, runtime.settings, window, "approved", now)
            other = notices_service.plan(session, runtime.settings, window, "extended", now)
        assert (again, other) == (False, True)
        assert [(n.event, n.status) for n in notices(bot)] == [
            ("approved", "pending"),
            ("extended", "pending"),
        ]
        with runtime.sessions.begin() as session:
            sends = session.scalars(
                select(DueAction.dedup_key).where(DueAction.kind == notices_service.NOTIFY)
            ).all()
        assert sorted(sends) == ["notice:1:approved", "notice:1:extended"]


def test_extend_end_early_and_cancel_each_tell_coursedog_again(
    database_url: str, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with bot_with(database_url, notice_config(port)) as bot:
        approve(bot)
        bot.command(REQUESTER, "extend MW-1 1h")
        bot.command(REQUESTER, "extend MW-1 30m")
        bot.command(REQUESTER, "end MW-1")
        bot.tick()
        subjects = [m["Subject"] for m in inbox.messages]
        assert [s.split(":")[0] for s in subjects] == [
            "Planned SIS maintenance",
            "Planned SIS maintenance extended",
            "Planned SIS maintenance extended",
            "Planned SIS maintenance ended early",
        ]
        assert "13:30 EST" in inbox.messages[2].get_content()  # the second extension's end
        # A scheduled window that is cancelled: Coursedog hears of it; a bare request never.
        bot.command(REQUESTER, "schedule staging 2026-12-07 22:00 2h Banner")
        bot.click(APPROVER, ids.APPROVE, "2", bot.wait_card(2))
        bot.command(REQUESTER, "cancel MW-2")
        bot.command(REQUESTER, "start sandbox 1h")
        bot.command(REQUESTER, "cancel MW-3")
        bot.tick()
        assert [m["Subject"].split(":")[0] for m in inbox.messages[4:]] == [
            "Planned SIS maintenance",
            "Planned SIS maintenance cancelled",
        ]
        assert all("MW-3" not in m["Subject"] for m in inbox.messages)


def test_without_smtp_the_thread_carries_the_draft_and_records_who_sent_it(
    database_url: str,
) -> None:
    with bot_with(database_url, notice_config(None)) as bot:
        approve(bot)
        bot.tick()
        draft = thread_message(bot, "No mail server is configured")
        assert buttons(draft) == [ids.NOTICE_SHOW, ids.NOTICE_SENT]
        [row] = notices(bot)
        assert row.status == "draft" and row.body and "school id state_u_prod" in row.body
        # One short line: the text itself is in the modal of Show the draft.
        assert escape(row.subject or "") in draft.text and "school id" not in str(draft.blocks)
        assert len(draft.text) < 200
        assert bot.runtime.windows.get(1).state == "active"  # the window did not wait
        assert bot.sim.school("state_u_prod").comments == []  # it waits for the notice
        bot.click(STRANGER, ids.NOTICE_SENT, str(row.id), draft)
        assert "Only the requester" in bot.responses()[-1]["text"]
        bot.click(REQUESTER, ids.NOTICE_SENT, str(row.id), draft)
        answer = bot.responses()[-1]
        assert answer["replace_original"] is True and f"<@{REQUESTER}> sent" in answer["text"]
        assert notices(bot)[0].confirmed_by == REQUESTER
        bot.click(APPROVER, ids.NOTICE_SENT, str(row.id), draft)
        assert "already recorded" in bot.responses()[-1]["text"]
        with bot.runtime.sessions() as session:
            actions = session.scalars(select(AuditEvent.action)).all()
        assert actions.count("coursedog_notice_confirmed") == 1
        assert "coursedog_notice_drafted" in actions
        # Once a person sent it, the comment goes out at once, citing that, not a Message-ID.
        [comment] = bot.sim.school("state_u_prod").comments
        assert "Reference: notice to Coursedog support, sent by hand." in comment
        assert "Message-ID" not in comment and "not been sent" not in comment


def test_smtp_down_falls_back_to_the_draft_and_says_why(database_url: str) -> None:
    with bot_with(database_url, notice_config(_free_port())) as bot:
        approve(bot)
        bot.tick()
        draft = thread_message(bot, "could not be emailed")
        assert "could not be reached" in draft.text and "goes ahead" in draft.text
        assert notices(bot)[0].status == "draft"
        school = bot.sim.school("state_u_prod")
        assert (school.nightly, school.realtime) == (False, False)


def test_a_notice_that_could_not_be_emailed_is_never_cited_and_the_comment_says_so(
    database_url: str,
) -> None:
    clock = ManualClock()
    config = notice_config(_free_port(), comment_wait_seconds=120)
    with bot_with(database_url, config, clock) as bot:
        approve(bot)
        school = bot.sim.school("state_u_prod")
        assert (school.nightly, school.realtime) == (False, False)
        assert school.comments == []  # the notice is still to be sent: the comment waits
        bot.tick()  # the mail server cannot be reached: the notice becomes a draft
        [row] = notices(bot)
        assert row.status == "draft"
        clock.advance(timedelta(seconds=119))
        bot.runtime.worker.run_once()
        assert bot.settle() and school.comments == []
        clock.advance(timedelta(seconds=2))  # waited long enough: it goes out, saying so
        bot.runtime.worker.run_once()
        assert bot.settle()
        [comment] = school.comments
        assert row.message_id not in comment and "Message-ID" not in comment
        assert comment.endswith(
            "The notice to Coursedog support has not been sent yet; its draft waits in the "
            "window's Slack thread."
        )
        with bot.runtime.sessions() as session:
            said = session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "activity_commented")
            ).all()
        assert said == [comment]
        # Sent by hand afterwards: recorded, and the comment is not posted again.
        bot.click(REQUESTER, ids.NOTICE_SENT, str(row.id), thread_message(bot, "could not be"))
        assert notices(bot)[0].status == "confirmed"
        assert school.comments == [comment]


@pytest.mark.parametrize("mailed", [True, False], ids=["emailed", "drafted"])
def test_a_window_that_starts_now_tells_coursedog_beside_the_switch_off(
    database_url: str, smtp: tuple[Inbox, int], mailed: bool
) -> None:
    inbox, port = smtp
    # The scheduler's regular look is two minutes away: only a wake at approval is in time.
    config = notice_config(port if mailed else None)
    with bot_with(database_url, config, scheduler_poll_seconds=120) as bot:
        school = bot.sim.school("state_u_prod")
        inbox.watch = lambda: (school.nightly, school.realtime)
        bot.runtime.scheduler.start()
        # Switching off takes a while: Coursedog holds the write for a second and a half.
        bot.sim.inject(Fault(kind="delay", method="PUT", path_contains="Schedule", delay=1.5))
        approve(bot)
        assert (school.nightly, school.realtime) == (False, False)
        thread = bot.thread(1)
        told = "Told Coursedog" if mailed else "No mail server is configured"
        [notice] = [i for i, text in enumerate(thread) if told in text]
        [switched] = [i for i, text in enumerate(thread) if "switched off and verified" in text]
        assert notice < switched
        with bot.runtime.sessions() as session:
            actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        told_at = actions.index("coursedog_notice_sent" if mailed else "coursedog_notice_drafted")
        assert told_at < actions.index("schedule_written")
        if mailed:
            assert inbox.wait_for(1, timeout=5)
            assert inbox.seen == [(True, True)]  # the mail was in before merges went off
            [row] = notices(bot)
            [comment] = school.comments  # and the comment could cite it straight away
            assert f"Message-ID {row.message_id}" in comment


def test_a_refused_login_is_named_and_the_password_never_shown(
    database_url: str,
    smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    inbox, port = smtp
    monkeypatch.setenv("SMTP_USER", SMTP_USER)
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-password-123")
    config = notice_config(port, username_env="SMTP_USER", password_env="SMTP_PASSWORD")
    with bot_with(database_url, config) as bot:
        approve(bot)
        bot.tick()
        draft = thread_message(bot, "could not be emailed")
        assert "refused the login (535)" in draft.text
        assert not inbox.messages
        everything = " ".join(str(c.args) for c in bot.slack.calls)
        assert "wrong-password-123" not in everything + caplog.text
        with bot.runtime.sessions() as session:
            stored = " ".join(
                f"{n.body} {n.error}" for n in session.scalars(select(CoursedogNotice))
            )
        assert "wrong-password-123" not in stored


def test_locked_settings_send_a_notice_that_asks_coursedog_to_act(
    database_url: str, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    clock = ManualClock()
    with bot_with(database_url, notice_config(port), clock) as bot:
        bot.sim.set_school("state_u_prod", {"locked": True})
        approve(bot)
        bot.tick()
        bot.runtime.worker.run_once()
        assert bot.settle()
        bot.tick()
        locked = [m for m in inbox.messages if "locked" in m["Subject"]]
        assert len(locked) == 1
        body = locked[0].get_content()
        assert "Please switch off the nightly and the real-time merges" in body
        assert "school id state_u_prod" in body
        assert "asks them to switch" in thread_message(bot, "merge settings are locked").text
        # Coursedog acts; at the end the restore is refused too: a second, different request.
        bot.sim.set_school("state_u_prod", {"nightly": False, "realtime": False})
        bot.runtime.worker.run_once()
        assert bot.settle()
        clock.advance(timedelta(minutes=5))
        bot.command(REQUESTER, "end MW-1")
        bot.tick()
        restore = [m for m in inbox.messages if "back on" in m["Subject"]]
        assert len(restore) == 1
        assert "nightly on, real-time on" in restore[0].get_content()


def test_notice_settings_are_checked() -> None:
    base = settings_document("http://127.0.0.1:1")
    with pytest.raises(ConfigError, match=r"\[coursedog_notice\]: .*`to`"):
        parse_settings({**base, "coursedog_notice": {"smtp_host": "mail.example"}})
    with pytest.raises(ConfigError, match="username_env and password_env"):
        parse_settings({**base, "coursedog_notice": {"to": SUPPORT, "username_env": "SMTP_USER"}})
    with pytest.raises(
        ConfigError, match=r"\[coursedog_notice\] to: 'not an address' is not an email"
    ):
        parse_settings({**base, "coursedog_notice": {"to": "not an address"}})
