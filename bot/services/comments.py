"""The Merge Settings Activity comment: once after switching off, once after restoring.

The Activity tab does not record changes to the real-time schedule, so the comment is the
record Coursedog (and the school) will look for. It is owed in the transaction of the outcome
it tells of, then claimed and posted (with the api driver) or handed to a person (assisted), so
a crash can delay a comment but neither lose it nor post it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, sessionmaker

from bot.clock import Clock
from bot.services import notices
from bot.services.outcomes import owe
from bot.services.reports import Report, ReportKind
from coursedog.errors import CoursedogError
from storage import ledger
from storage.models import RemoteWrite, Window

log = logging.getLogger(__name__)
OPERATION = "activity_comment"
PHASES = {
    ReportKind.SWITCHED_OFF: "off",
    ReportKind.VERIFIED_OFF: "off",
    ReportKind.RESTORED: "restored",
    ReportKind.CONFIRMED_OFF: "off",
    ReportKind.CONFIRMED_RESTORED: "restored",
}
_CHECKED = {
    ReportKind.CONFIRMED_OFF: "confirmed by hand in the checklist",
    ReportKind.CONFIRMED_RESTORED: "confirmed by hand in the checklist",
}


class CommentApi(Protocol):
    """The part of the Coursedog client that comments."""

    def post_activity_comment(self, text: str) -> None: ...


def comment_text(window: Window, env: str, report: Report, notice: str | None = None) -> str:
    """What the comment says: the window, the change, the notice and ticket to cite."""
    cited = [c for c in (notice, f"ticket {window.ticket}" if window.ticket else None) if c]
    reference = f" Reference: {'; '.join(cited)}." if cited else ""
    reason = f" ({window.reason})" if window.reason else ""
    checked = _CHECKED.get(report.kind, "verified by reading back")
    if PHASES.get(report.kind) == "off":
        until = f" until {window.ends_at:%Y-%m-%d %H:%M} UTC" if window.ends_at else ""
        before = report.before.describe() if report.before else "unknown"
        return (
            f"sis-maint MW-{window.id}: merges switched off on {env} for planned SIS "
            f"maintenance{reason}{until}. Before: {before}; {checked}. "
            f"Edits made in Coursedog meanwhile reach the SIS after merges are back on.{reference}"
        )
    after = report.after.describe() if report.after else "unknown"
    return (
        f"sis-maint MW-{window.id}: SIS maintenance over; merge schedule on {env} restored to "
        f"{after}, {checked}.{reference}"
    )


class ActivityComments:
    """Owes a comment with each switched-off or restored outcome, then posts it once."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, *, mails: bool) -> None:
        self._sessions = sessions
        self._clock = clock
        self._mails = mails

    def owe(self, session: Session, reports: Sequence[Report]) -> None:
        """Record the comments ``reports`` warrant, in the transaction of their outcome.

        A crash between the outcome and the comment then delays the comment (the next pass
        over the environment posts it) instead of losing it.
        """
        for report in reports:
            phase = PHASES.get(report.kind)
            if phase is None or report.window_id is None:
                continue
            # The text needs the window's own columns, not its environments.
            window = session.get(Window, report.window_id, options=[lazyload(Window.environments)])
            if window is None or _commented(session, window.id, report.environment, phase):
                continue
            notice = notices.reference(session, window.id, mails=self._mails)
            text = comment_text(window, report.environment, report, notice)
            session.add(
                RemoteWrite(
                    environment=report.environment,
                    operation=OPERATION,
                    window_id=window.id,
                    before=None,
                    desired={"phase": phase, "text": text},
                    status="owed",
                    started_at=self._clock.now(),
                )
            )

    def post_owed(self, env: str, client: CommentApi | None, *, by_hand: bool) -> list[Report]:
        """Post the comments owed on ``env``; reports for those that failed or, with
        ``by_hand`` (the assisted driver, which does not write to Coursedog), for the texts a
        person must paste.

        Each is claimed before it is sent, so it is sent at most once: one whose sender died
        mid-call is settled as abandoned by the next pass (see plans.read_plan).
        """
        failed: list[Report] = []
        more = True
        while more:
            claimed, more = self._claim_next(env)
            if claimed is None:
                break
            intent_id, window_id, phase, text = claimed
            if by_hand or client is None:
                handed = Report(
                    window_id,
                    env,
                    ReportKind.COMMENT_BY_HAND,
                    text=text,
                    occurrence=intent_id,
                    detail=phase,
                )
                self._settle(intent_id, None, status="handed_over", report=handed)
                failed.append(handed)
                continue
            error: str | None = None
            try:
                client.post_activity_comment(text)
            except CoursedogError as exc:
                error = str(exc)
            refused = (
                None
                if error is None
                else Report(
                    window_id,
                    env,
                    ReportKind.COMMENT_FAILED,
                    detail=error,
                    text=text,
                    occurrence=intent_id,
                )
            )
            self._settle(intent_id, error, report=refused)
            if refused is not None:
                failed.append(refused)
        return failed

    def _claim_next(self, env: str) -> tuple[tuple[int, int | None, str, str] | None, bool]:
        """The oldest owed comment on ``env``, now in flight, and whether more are owed."""
        with self._sessions.begin() as session:
            owed = ledger.owed_comments(session, env, limit=2)
            if not owed:
                return None, False
            row = owed[0]
            row.status, row.started_at = "pending", self._clock.now()
            claimed = (row.id, row.window_id, str(row.desired["phase"]), str(row.desired["text"]))
            return claimed, len(owed) > 1

    def _settle(
        self,
        intent_id: int,
        error: str | None,
        *,
        status: str | None = None,
        report: Report | None = None,
    ) -> None:
        with self._sessions.begin() as session:
            if report is not None:
                owe(session, [report], self._clock.now())
            intent = session.get(RemoteWrite, intent_id)
            assert intent is not None
            intent.status = status or ("failed" if error else "applied")
            intent.finished_at, intent.error = self._clock.now(), error
            ledger.add_audit(
                session,
                at=intent.finished_at,
                actor="system",
                action=(
                    "activity_comment_failed"
                    if error
                    else "activity_comment_handed_over"
                    if status
                    else "activity_commented"
                ),
                window_id=intent.window_id,
                environment=intent.environment,
                detail=error or str(intent.desired.get("text", "")),
            )


def _commented(session: Session, window_id: int, env: str, phase: str) -> bool:
    """Whether the comment for this window, environment and phase was ever owed."""
    found = session.scalars(
        select(RemoteWrite.id).where(
            RemoteWrite.operation == OPERATION,
            RemoteWrite.window_id == window_id,
            RemoteWrite.environment == env,
            RemoteWrite.desired["phase"].as_string() == phase,
        )
    ).first()
    return found is not None
