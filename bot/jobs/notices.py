"""The handler of ``notify_coursedog`` actions: email the notice, or hand it to a person.

The text is written (and stored) on the first attempt and kept for every retry, so what was
sent, what the draft shows and what the ledger holds are the same words. A crash between the
send and the ledger update makes the retry send again with the same Message-ID, which mail
systems treat as one message. The ledger side is bot.services.notice_sending's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime

from bot.clock import Clock
from bot.config import Settings
from bot.domain.due_payloads import Notify
from bot.domain.states import NoticeStatus
from bot.jobs.mailer import Mailer, MailError
from bot.jobs.scheduler import Lease
from bot.services import notices
from bot.services.notice_sending import NoticeSending, Recorded
from bot.services.notices import NoticeView
from bot.services.windows import WindowService
from bot.slack import notice_blocks
from bot.slack.notifier import SlackNotifier

log = logging.getLogger(__name__)


class NoticeSender:
    """Sends each planned notice once; falls back to a draft in the thread."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        notifier: SlackNotifier,
        windows: WindowService,
        sending: NoticeSending,
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
        self._sending = sending
        self._mailer = mailer
        self._name_of = name_of
        self._on_settled = on_settled or (lambda _environments: None)

    def handle(self, lease: Lease) -> None:
        """Write the text if needed, send it, record the result, tell the thread."""
        notice = self._sending.prepare(lease.payload(Notify).notice_key, self._name_of)
        if notice is None or notice.status != NoticeStatus.PENDING:
            return  # sent or drafted by an earlier attempt
        sent, error = False, None  # without a mailer: a draft, and nothing went wrong
        if self._mailer is not None:
            try:
                self._mailer.send(self._message(notice))
                sent = True
            except MailError as exc:
                error = str(exc)
                log.warning("notice %s not emailed: %s", notice.message_id, error)
        with lease.transaction() as session:  # the result commits with the action's completion
            recorded = self._sending.record(session, notice.id, sent=sent, error=error)
        if recorded.waiting:  # their comments can cite the Message-ID now: no need for a tick
            self._on_settled(recorded.waiting)
        self._tell(lease.action.dedup_key, recorded)

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

    def _tell(self, key: str, recorded: Recorded) -> None:
        """One line in the thread: emailed, a draft to send, or what a newer draft changed."""
        notice = recorded.notice
        view = self._windows.get(notice.window_id)
        if notice.status == NoticeStatus.SENT:
            text, blocks = notice_blocks.sent(notice, recorded.replaced)
        else:
            text, blocks = notice_blocks.draft(notice, recorded.replaced, recorded.changes)
        self._notifier.in_thread(view, key, text, blocks=blocks)
