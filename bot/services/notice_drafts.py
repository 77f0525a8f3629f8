"""A window's notice drafts: one draft in versions, what each version changed, who sent which.

Without a mail server (or when it fails) a notice to Coursedog support is a draft that a person
sends. The notices that announce a window (approved, extended, ended early, cancelled, moved)
are versions of one draft: a notice written while an earlier one of the same window is still
unsent says it all again, so Coursedog needs only the newest, and the earlier draft is
``superseded``. The notices about one environment (locked settings) are versions of their own.

*Sent it* confirms the version it was pressed on (the thread line's, or the one the modal
shows). Confirming a superseded version records that Coursedog has that older text; the newer
version stays a draft to send, since what changed since has not reached Coursedog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.domain.states import NoticeStatus, move_notice
from bot.errors import Conflict, NotFound
from bot.services import notices
from bot.services.access import Access
from bot.services.notices import TOLD, NoticeView
from storage import audit, windows
from storage.models import CoursedogNotice

# Lines of a notice's text whose change the thread states briefly: label -> what it says.
_TIMES = {"From:": "starts", "To:": "ends"}


def versions(session: Session, row: CoursedogNotice) -> list[CoursedogNotice]:
    """The notices that are versions of one draft with ``row`` (same window, same
    environment or none), oldest first."""
    same_env = (
        CoursedogNotice.environment.is_(None)
        if row.environment is None
        else CoursedogNotice.environment == row.environment
    )
    query = select(CoursedogNotice).where(CoursedogNotice.window_id == row.window_id, same_env)
    return list(session.scalars(query.order_by(CoursedogNotice.id)))


def unsent(earlier: Sequence[CoursedogNotice]) -> list[CoursedogNotice]:
    """The drafts written since Coursedog last got a version (none of them sent)."""
    since: list[CoursedogNotice] = []
    for row in earlier:
        if row.status in TOLD:
            since = []
        elif row.status in (NoticeStatus.DRAFT, NoticeStatus.SUPERSEDED):
            since.append(row)
    return since


def announced(earlier: Sequence[CoursedogNotice], event: str) -> str:
    """What a notice's text announces: an announcement Coursedog never got that has moved in
    time is announced again with its new times, not as a change to something unheard of."""
    first = next(iter(unsent(earlier)), None)
    moved = event in (notices.EXTENDED, notices.MOVED)
    if moved and first is not None and first.event == notices.APPROVED:
        return notices.APPROVED
    return event


def changes(before: str, after: str) -> tuple[str, ...]:
    """What a version says that the one before did not, briefly: ``ends 13:00 instead of
    12:00`` for a moved time, the line itself for anything else."""
    old = [line.strip() for line in before.splitlines()]
    said = []
    for line in (raw.strip() for raw in after.splitlines()):
        if not line or line in old:
            continue
        label = next((lb for lb in _TIMES if line.startswith(lb)), None)
        if label is None:
            said.append(line)
            continue
        was = next((o for o in old if o.startswith(label)), None)
        then, now = (_local(was, label) if was else None), _local(line, label)
        if now == then:
            continue  # the same time, written by an older draft with its UTC beside it
        instead = f" instead of {then}" if then else ""
        said.append(f"{_TIMES[label]} {now}{instead}")
    return tuple(said)


def _local(line: str, label: str) -> str:
    """The local time of a ``From:`` or ``To:`` line. Drafts stored before notices showed
    only the local time read ``From: <local> = <UTC>``; the ledger keeps them, and a change
    to their window is compared with them, so the UTC part is cut off here."""
    return line.removeprefix(label).split(" = ", 1)[0].strip()


def newest(session: Session, row: CoursedogNotice) -> CoursedogNotice:
    """The version that replaced ``row`` if it was superseded (else ``row`` itself)."""
    if row.status != NoticeStatus.SUPERSEDED:
        return row
    later = [r for r in versions(session, row) if r.id > row.id]
    return next((r for r in later if r.status != NoticeStatus.SUPERSEDED), row)


@dataclass(frozen=True)
class Shown:
    """The version a *Show the draft* press shows, and whether it replaced the one pressed."""

    notice: NoticeView
    replaced: bool


@dataclass(frozen=True)
class Confirmed:
    """A version recorded as sent, and the newer draft still to send if there is one, with
    what it says that the confirmed version did not."""

    notice: NoticeView
    newer: NoticeView | None = None
    changes: tuple[str, ...] = ()


class NoticeService:
    """People read a draft and confirm that they sent a version of it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        access: Access,
        now: Callable[[], datetime],
        *,
        on_settled: notices.OnSettled | None = None,
    ) -> None:
        """``on_settled`` hears of the environments whose comments waited for the notice."""
        self._sessions = sessions
        self._access = access
        self._now = now
        self._on_settled = on_settled or (lambda _environments: None)

    def show(self, notice_id: int) -> Shown:
        """The version to show for a press on ``notice_id``'s line: itself, or the version
        that replaced it."""
        with self._sessions() as session:
            row = session.get(CoursedogNotice, notice_id)
            if row is None:
                raise NotFound("That notice is not in the ledger.")
            if row.body is None:
                raise Conflict("This notice has not been written yet; nothing to show.")
            shown = newest(session, row)
            return Shown(NoticeView.of(shown), replaced=shown.id != row.id)

    def confirm_sent(self, *, actor: str, notice_id: int) -> Confirmed:
        """Record who sent a version; a second click is told who did."""
        with self._sessions.begin() as session:
            row = session.get(CoursedogNotice, notice_id, with_for_update=True)
            if row is None:
                raise NotFound("That notice is not in the ledger.")
            window = windows.get_window(session, row.window_id)
            assert window is not None
            later = [r for r in versions(session, row) if r.id > row.id]
            _check_confirmable(row, later)
            self._access.check_may_manage(window, actor, "record the notice of")
            now = self._now()
            older = row.status == NoticeStatus.SUPERSEDED
            move_notice(row, NoticeStatus.CONFIRMED)
            row.confirmed_by, row.confirmed_at = actor, now
            audit.add(
                session,
                at=now,
                actor=actor,
                action="coursedog_notice_confirmed",
                window_id=window.id,
                environment=row.environment,
                detail=row.subject or row.event,
                data={"notice": row.id, "superseded": older},
            )
            session.flush()
            draft = next((r for r in later if r.status == NoticeStatus.DRAFT), None)
            confirmed = Confirmed(
                NoticeView.of(row),
                NoticeView.of(draft) if draft else None,
                changes(row.body or "", draft.body or "") if draft else (),
            )
            waiting = notices.settled(session, row)
        if waiting:
            self._on_settled(waiting)
        return confirmed


def _check_confirmable(row: CoursedogNotice, later: Sequence[CoursedogNotice]) -> None:
    """Conflict unless ``row`` is a version a person may still record as sent."""
    if row.status == NoticeStatus.CONFIRMED:
        raise Conflict(f"<@{row.confirmed_by}> already recorded sending this notice.")
    if row.status == NoticeStatus.SENT:
        raise Conflict("The bot emailed this notice itself; nothing to record.")
    if row.status == NoticeStatus.PENDING:
        raise Conflict("This notice has not been written yet; nothing to record.")
    told = next((r for r in later if r.status in TOLD), None)
    if row.status == NoticeStatus.SUPERSEDED and told is not None:
        how = (
            "the bot emailed it"
            if told.status == NoticeStatus.SENT
            else f"<@{told.confirmed_by}> recorded sending it"
        )
        raise Conflict(
            f"A newer version of this notice replaced it and {how}; nothing to record for this one."
        )
