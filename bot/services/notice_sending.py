"""The ledger side of sending a notice to Coursedog support (bot.jobs.notices sends it).

Its words are written and committed on the first attempt, before anything is sent, and kept
for every retry, so what was sent, what the draft shows and what the ledger holds are the same.
What became of it (sent, or a draft for a person) is recorded in the transaction that
completes its due action, with its audit event. A notice written while an earlier draft of the
same window was unsent says what that draft said, brought up to date, and supersedes it
(bot.services.notice_drafts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.states import NoticeStatus, move_notice
from bot.services import notice_drafts, notices
from bot.services.notices import NoticeView
from coursedog.models import Schedule
from storage import audit, windows
from storage.models import CoursedogNotice


@dataclass(frozen=True)
class Recorded:
    """A notice as recorded, the environments whose Activity comments waited for it, and the
    unsent draft it replaced (if any) with what it says that the draft did not."""

    notice: NoticeView
    waiting: frozenset[str]
    replaced: NoticeView | None = None
    changes: tuple[str, ...] = ()


class NoticeSending:
    """Writes a notice's words once, then records whether it was sent or left as a draft."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock

    def prepare(self, key: str, name_of: Callable[[str], str]) -> NoticeView | None:
        """The notice planned under ``key``, with its subject and body written if it has none
        yet (None if there is no such notice). ``name_of`` (a person's name, from Slack) is
        asked outside any transaction."""
        with self._sessions.begin() as session:
            row = _by_key(session, key)
            if row is None or row.body is not None:
                return NoticeView.of(row) if row else None
            window = windows.get_window(session, row.window_id)
            assert window is not None
            people = [p for p in (window.requester_id, window.decided_by) if p]
        names = {p: name_of(p) for p in people}
        with self._sessions.begin() as session:
            row = _by_key(session, key)
            assert row is not None
            if row.body is None:  # another attempt may have written it meanwhile
                self._compose(session, row, lambda p: names.get(p, p))
            return NoticeView.of(row)

    def record(
        self, session: Session, notice_id: int, *, sent: bool, error: str | None = None
    ) -> Recorded:
        """In the caller's transaction (the one completing the due action): the notice was
        emailed (``sent``) or is a draft for a person, with why it was not emailed."""
        row = session.get(CoursedogNotice, notice_id)
        if row is None:
            raise LookupError(f"coursedog notice {notice_id} is not in the ledger")
        now = self._clock.now()
        move_notice(row, NoticeStatus.SENT if sent else NoticeStatus.DRAFT)
        row.error = error
        row.sent_at = now if sent else None
        replaced = self._supersede(session, row, now)
        audit.add(
            session,
            at=now,
            actor="system",
            action="coursedog_notice_sent" if sent else "coursedog_notice_drafted",
            window_id=row.window_id,
            environment=row.environment,
            detail=error or row.subject or "",
            data={"message_id": row.message_id, "to": row.recipient, "event": row.event},
        )
        waiting = frozenset(notices.settled(session, row))
        if replaced is None:
            return Recorded(NoticeView.of(row), waiting)
        said = notice_drafts.changes(replaced.body or "", row.body or "")
        return Recorded(NoticeView.of(row), waiting, NoticeView.of(replaced), said)

    def _supersede(
        self, session: Session, row: CoursedogNotice, now: datetime
    ) -> CoursedogNotice | None:
        """Mark the unsent drafts before ``row`` superseded by it; the newest of them."""
        earlier = [r for r in notice_drafts.versions(session, row) if r.id < row.id]
        drafts = [r for r in earlier if r.status == NoticeStatus.DRAFT]
        for draft in drafts:
            move_notice(draft, NoticeStatus.SUPERSEDED)
            audit.add(
                session,
                at=now,
                actor="system",
                action="coursedog_notice_superseded",
                window_id=row.window_id,
                environment=row.environment,
                detail=f"{draft.subject or draft.event}, by a newer version",
                data={"notice": draft.id, "by": row.id},
            )
        return drafts[-1] if drafts else None

    def _compose(
        self, session: Session, row: CoursedogNotice, name_of: Callable[[str], str]
    ) -> None:
        window = windows.get_window(session, row.window_id)
        assert window is not None
        baseline = None
        if row.environment:
            held = windows.held_baseline(session, row.environment)
            baseline = Schedule.of(held) if held else None
        earlier = [r for r in notice_drafts.versions(session, row) if r.id < row.id]
        event = notice_drafts.announced(earlier, row.event)
        row.subject, row.body = notices.compose(
            self._settings, window, row, name_of, baseline, event=event
        )


def _by_key(session: Session, key: str) -> CoursedogNotice | None:
    return session.scalars(select(CoursedogNotice).where(CoursedogNotice.dedup_key == key)).first()
