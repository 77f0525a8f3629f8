"""The handler of ``notify_coursedog`` actions: email the notice, or hand it to a person.

The text is written (and stored) on the first attempt and kept for every retry, so what was
sent, what the draft shows and what the ledger holds are the same words. A crash between the
send and the ledger update makes the retry send again with the same Message-ID, which mail
systems treat as one message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config import Settings
from bot.jobs.mailer import Mailer, MailError
from bot.jobs.scheduler import Lease
from bot.services import notices
from bot.services.notices import NoticeView
from bot.services.windows import WindowService
from bot.slack import notice_blocks
from bot.slack.notifier import SlackNotifier
from coursedog.models import Schedule
from storage import audit, windows
from storage.models import CoursedogNotice

log = logging.getLogger(__name__)


class NoticeSender:
    """Sends each planned notice once; falls back to a draft in the thread."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        notifier: SlackNotifier,
        windows: WindowService,
        *,
        mailer: Mailer | None,
        name_of: Callable[[str], str],
        on_settled: notices.OnSettled | None = None,
    ) -> None:
        """``on_settled`` hears of the environments whose comments waited for a sent notice."""
        self._settings = settings
        self._clock = clock
        self._notifier = notifier
        self._windows = windows
        self._mailer = mailer
        self._name_of = name_of
        self._on_settled = on_settled or (lambda _environments: None)

    def handle(self, lease: Lease) -> None:
        """Write the text if needed, send it, record the result, tell the thread."""
        notice = self._prepare(lease.action.dedup_key)
        if notice is None or notice.status != "pending":
            return  # sent or drafted by an earlier attempt
        error: str | None = None
        if self._mailer is None:
            status = "draft"
        else:
            try:
                self._mailer.send(self._message(notice))
                status = "sent"
            except MailError as exc:
                status, error = "draft", str(exc)
                log.warning("notice %s not emailed: %s", notice.message_id, error)
        with lease.transaction() as session:
            row = session.get(CoursedogNotice, notice.id)
            assert row is not None
            now = self._clock.now()
            row.status, row.error = status, error
            row.sent_at = now if status == "sent" else None
            audit.add(
                session,
                at=now,
                actor="system",
                action="coursedog_notice_sent" if status == "sent" else "coursedog_notice_drafted",
                window_id=row.window_id,
                environment=row.environment,
                detail=error or row.subject or "",
                data={"message_id": row.message_id, "to": row.recipient, "event": row.event},
            )
            notice, waiting = NoticeView.of(row), notices.settled(session, row)
        if waiting:  # their comments can cite the Message-ID now: no need to wait for a tick
            self._on_settled(waiting)
        self._tell(lease.action.dedup_key, notice)

    def _prepare(self, key: str) -> NoticeView | None:
        """The notice, with its subject and body written on the first attempt."""
        with self._notifier.sessions.begin() as session:
            row = _by_key(session, key)
            if row is None or row.body is not None:
                return NoticeView.of(row) if row else None
            window = windows.get_window(session, row.window_id)
            assert window is not None
            people = [p for p in (window.requester_id, window.decided_by) if p]
        names = {p: self._name_of(p) for p in people}  # Slack calls outside any transaction
        with self._notifier.sessions.begin() as session:
            row = _by_key(session, key)
            assert row is not None
            if row.body is None:
                window = windows.get_window(session, row.window_id)
                assert window is not None
                baseline = None
                if row.environment:
                    held = windows.held_baseline(session, row.environment)
                    baseline = Schedule(held.nightly, held.realtime) if held else None
                row.subject, row.body = notices.compose(
                    self._settings, window, row, lambda p: names.get(p, p), baseline
                )
            return NoticeView.of(row)

    def _message(self, notice: NoticeView) -> EmailMessage:
        config = self._settings.coursedog_notice
        message = EmailMessage()
        message["From"] = config.sender
        message["To"] = notice.recipient or ""
        if config.cc:
            message["Cc"] = ", ".join(config.cc)
        message["Subject"] = notice.subject
        message["Message-ID"] = notice.message_id
        message["Date"] = format_datetime(self._clock.now())
        message.set_content(notice.body)
        return message

    def _tell(self, key: str, notice: NoticeView) -> None:
        view = self._windows.get(notice.window_id)
        if notice.status == "sent":
            self._notifier.in_thread(view, key, notice_blocks.sent(notice))
            return
        text, blocks = notice_blocks.draft(notice)
        self._notifier.in_thread(view, key, text, blocks=blocks)


def _by_key(session: Session, key: str) -> CoursedogNotice | None:
    return session.scalars(select(CoursedogNotice).where(CoursedogNotice.dedup_key == key)).first()
