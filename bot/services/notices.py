"""Step 1 of the runbook: telling Coursedog support about a window, and keeping what was said.

A notice is planned in the same transaction as the change it reports (approved, extended,
ended early, cancelled, or settings found locked), with its Message-ID chosen there, and a
due action sends it. The text is written when it is sent, so it says who approved by name.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.domain.due_payloads import Notify, write
from bot.domain.states import NoticeStatus
from bot.domain.timefmt import local_time
from bot.services.access import label
from coursedog.models import Schedule
from storage import due, remote_writes
from storage.dialect_insert import insert_new
from storage.models import CoursedogNotice, Window

NOTIFY = "notify_coursedog"
APPROVED = "approved"
EXTENDED = "extended"
ENDED_EARLY = "ended_early"
CANCELLED = "cancelled"
MOVED = "moved"
LOCKED_OFF = "locked_off"
LOCKED_RESTORE = "locked_restore"
SUBJECTS = {
    APPROVED: "Planned SIS maintenance",
    EXTENDED: "Planned SIS maintenance extended",
    ENDED_EARLY: "Planned SIS maintenance ended early",
    CANCELLED: "Planned SIS maintenance cancelled",
    MOVED: "Planned SIS maintenance moved",
    LOCKED_OFF: "Please switch merges off: merge settings locked",
    LOCKED_RESTORE: "Please switch merges back on: merge settings locked",
}
# A notice Coursedog has: emailed, or sent by a person.
TOLD = (NoticeStatus.SENT, NoticeStatus.CONFIRMED)


@dataclass(frozen=True)
class NoticeView:
    """What a notice said and where it stands."""

    id: int
    window_id: int
    event: str
    message_id: str
    recipient: str | None
    subject: str
    body: str
    status: NoticeStatus
    error: str | None
    confirmed_by: str | None
    # Its dedup key, which is also the key of its line in the window's thread.
    key: str = ""

    @classmethod
    def of(cls, row: CoursedogNotice) -> NoticeView:
        """Snapshot a row."""
        return cls(
            row.id,
            row.window_id,
            row.event,
            row.message_id,
            row.recipient,
            row.subject or "",
            row.body or "",
            NoticeStatus(row.status),
            row.error,
            row.confirmed_by,
            row.dedup_key,
        )


def plan(
    session: Session,
    settings: Settings,
    window: Window,
    event: str,
    now: datetime,
    *,
    environment: str | None = None,
    occurrence: str = "",
    urgent: bool = False,
) -> bool:
    """Record a notice to send and the action that sends it; False if already planned.

    Not ``urgent``, the scheduler's next regular look (within scheduler_poll_seconds) sends
    it, so the notice never competes with switching merges. ``urgent`` wakes the scheduler at
    once: for a window that starts now, Coursedog hears of it beside the switch-off, not after.
    """
    key = ":".join(
        part for part in ("notice", str(window.id), event, environment or "", occurrence) if part
    )
    config = settings.coursedog_notice
    domain = config.sender.rsplit("@", 1)[1]
    # One statement: a notice planned already (same key) is left as it is.
    stmt = insert_new(session, CoursedogNotice, "dedup_key", returning="id")
    row = {
        "window_id": window.id,
        "event": event,
        "environment": environment,
        "dedup_key": key,
        "message_id": f"<mw{window.id}.{event}.{secrets.token_hex(8)}@{domain}>",
        "recipient": config.to,
        "status": NoticeStatus.PENDING,
        "created_at": now,
    }
    if session.execute(stmt, row).first() is None:
        return False
    due.schedule_action(
        session,
        kind=NOTIFY,
        due_at=now,
        dedup_key=key,
        now=now,
        window_id=window.id,
        payload=write(Notify(key)),
        urgent=urgent,
    )
    return True


@dataclass(frozen=True)
class Citation:
    """What an Activity comment may say of a window's approval notice, as it stands now."""

    # A reference to a notice that went out: its Message-ID, or that a person sent it.
    cited: str | None = None
    # Said instead while the notice has not gone out (still to be emailed, or a draft).
    unsent: str | None = None

    @property
    def settled(self) -> bool:
        """Whether waiting longer cannot change it (sent, confirmed, or no notice at all)."""
        return self.unsent is None


def announcements(session: Session, window_id: int) -> list[CoursedogNotice]:
    """A window's notices that announce it (not those about one environment), oldest first."""
    return list(
        session.scalars(
            select(CoursedogNotice)
            .where(CoursedogNotice.window_id == window_id, CoursedogNotice.environment.is_(None))
            .order_by(CoursedogNotice.id)
        )
    )


def citation(session: Session, window_id: int) -> Citation:
    """How an Activity comment cites the approval notice: only a sent or confirmed one, or
    a later one of the window that said it all again in its place."""
    rows = announcements(session, window_id)
    first = next((i for i, row in enumerate(rows) if row.event == APPROVED), None)
    if first is None:
        return Citation()
    since = rows[first:]
    told = next((row for row in since if row.status in TOLD), None)
    if told is not None and told.status == NoticeStatus.SENT:
        return Citation(cited=f"notice to Coursedog support, Message-ID {told.message_id}")
    if told is not None:
        return Citation(cited="notice to Coursedog support, sent by hand")
    if any(row.status == NoticeStatus.DRAFT for row in since):
        return Citation(
            unsent="The notice to Coursedog support has not been sent yet; its draft waits "
            "in the window's Slack thread."
        )
    return Citation(unsent="The notice to Coursedog support has not been sent yet.")


def compose(
    settings: Settings,
    window: Window,
    row: CoursedogNotice,
    name_of: Callable[[str], str],
    baseline: Schedule | None = None,
    *,
    event: str | None = None,
) -> tuple[str, str]:
    """The subject and the body of a notice; moments in the school's zone with its offset.
    ``event``, when given, is what the text announces instead of the row's own event."""
    event = event or row.event
    envs = [row.environment] if row.environment else window.environment_names
    zone = settings.time_zone(envs[0])
    instances = "\n".join(
        f"  - {settings.environments[e].label} ({e}): {_host(settings, e)}, "
        f"school id {settings.environments[e].school}"
        for e in envs
    )
    subject = f"{SUBJECTS[event]}: {label(window)}, {', '.join(envs)}"
    lines = [
        "Hello Coursedog support,",
        "",
        _opening(event, window, baseline, zone),
        "",
        f"Window: {label(window)}",
        f"Instance{'s' if len(envs) > 1 else ''}:",
        instances,
    ]
    if window.starts_at and window.ends_at:
        lines += [
            f"From: {local_time(window.starts_at, zone)}",
            f"To:   {local_time(window.ends_at, zone)}",
        ]
    approver = f"; approved by {name_of(window.decided_by)}" if window.decided_by else ""
    lines.append(f"Requested by {name_of(window.requester_id)}{approver}")
    if window.reason:
        lines.append(f"Reason: {window.reason}")
    if window.ticket:
        lines.append(f"Reference: {window.ticket}")
    lines += ["", _closing(event), "", "-- ", "sis-maint (Slack), for the school's registrar"]
    return subject, "\n".join(lines)


def _host(settings: Settings, env: str) -> str:
    return settings.environments[env].base_url.split("://", 1)[-1].rstrip("/")


def _opening(event: str, window: Window, baseline: Schedule | None, zone: str) -> str:
    ended = local_time(window.ended_at, zone) if window.ended_at else "now"
    restore = baseline.describe() if baseline else "the schedule recorded before the window"
    return {
        APPROVED: (
            "Our SIS has planned maintenance. We are switching off the Coursedog merge "
            "schedules of the instance(s) below for the time given, and will switch back on "
            "exactly what was on afterwards."
        ),
        EXTENDED: "The maintenance below takes longer than announced; this is its new end.",
        ENDED_EARLY: (
            f"The maintenance below ended early ({ended}); the merge schedules are being "
            "switched back on now."
        ),
        CANCELLED: "The maintenance below is cancelled; no merge schedule will be switched off.",
        MOVED: "The maintenance below was moved; these are its new times.",
        LOCKED_OFF: (
            "We could not switch off the merge schedules of the instance below ourselves: its "
            "merge settings are locked and Coursedog refused the change. Please switch off the "
            "nightly and the real-time merges for the time given, and tell us when done."
        ),
        LOCKED_RESTORE: (
            "The maintenance below is over, but the merge settings of the instance below are "
            "locked and Coursedog refused to restore them. Please set the merge schedules back "
            f"to: {restore}."
        ),
    }[event]


def _closing(event: str) -> str:
    if event in (LOCKED_OFF, LOCKED_RESTORE):
        return "Until this is done, the window's thread in our Slack shows it as waiting for you."
    return (
        "A comment on the Merge Settings Activity tab cites this message. Edits made in "
        "Coursedog during the window reach the SIS with the first merge after it."
    )


# Told of the environments whose Activity comments waited for a notice that has gone out.
OnSettled = Callable[[Iterable[str]], None]


def settled(session: Session, row: CoursedogNotice) -> set[str]:
    """Environments whose owed Activity comments can now cite ``row`` (sent or confirmed)."""
    if row.environment is not None or row.status not in TOLD:
        return set()
    if citation(session, row.window_id).cited is None:
        return set()
    return remote_writes.owed_comment_environments(session, row.window_id)
