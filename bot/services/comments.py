"""The Merge Settings Activity comment: once after switching off, once after restoring.

The Activity tab does not record changes to the real-time schedule, so the comment is the
record Coursedog (and the school) will look for. With the api driver the bot posts it; an
intent row is written first, so a comment is never posted twice for the same step.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

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
    """Posts the comment for each switched-off or restored report, once."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, *, mails: bool) -> None:
        self._sessions = sessions
        self._clock = clock
        self._mails = mails

    def after(
        self,
        env: str,
        client: CommentApi | None,
        reports: Sequence[Report],
        *,
        by_hand: bool = False,
    ) -> list[Report]:
        """Comment for each report that warrants one; reports for what a person must post.

        ``by_hand`` (the assisted driver): the bot does not write to Coursedog, so the text
        goes to the thread for a person to paste.
        """
        failed: list[Report] = []
        for report in reports:
            phase = PHASES.get(report.kind)
            if phase is None or report.window_id is None:
                continue
            claimed = self._claim(env, report, phase)
            if claimed is None:
                continue
            intent_id, text = claimed
            if by_hand or client is None:
                by_hand_report = Report(
                    report.window_id,
                    env,
                    ReportKind.COMMENT_BY_HAND,
                    text=text,
                    occurrence=intent_id,
                    detail=phase,
                )
                self._settle(intent_id, None, status="handed_over", report=by_hand_report)
                failed.append(by_hand_report)
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
                    report.window_id,
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

    def _claim(self, env: str, report: Report, phase: str) -> tuple[int, str] | None:
        with self._sessions.begin() as session:
            window = ledger.get_window(session, report.window_id or 0)
            if window is None:
                return None
            existing = session.scalars(
                select(RemoteWrite.id).where(
                    RemoteWrite.operation == OPERATION,
                    RemoteWrite.window_id == window.id,
                    RemoteWrite.environment == env,
                    RemoteWrite.desired["phase"].as_string() == phase,
                )
            ).first()
            if existing is not None:
                return None
            notice = notices.reference(session, window.id, mails=self._mails)
            text = comment_text(window, env, report, notice)
            intent = RemoteWrite(
                environment=env,
                operation=OPERATION,
                window_id=window.id,
                before=None,
                desired={"phase": phase, "text": text},
                status="pending",
                started_at=self._clock.now(),
            )
            session.add(intent)
            session.flush()
            return intent.id, text

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
