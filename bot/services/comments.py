"""The Merge Settings Activity comment: once after switching off, once after restoring.

The Activity tab does not record changes to the real-time schedule, so the comment is the
record Coursedog (and the school) will look for. It is owed in the transaction of the outcome
it tells of, then claimed and posted (with the api driver) or handed to a person (assisted), so
a crash can delay a comment but neither lose it nor post it twice.

Its "Before" is the baseline the ledger holds, never a later read: a person may have switched
merges off before the bot read them. Its text is written when it is claimed, so it cites the
approval notice only once that notice is sent or confirmed; until then the comment waits (at
most ``wait``), and after that it says the notice is not sent yet. The comments of one window
on an environment go out in the order they were owed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, sessionmaker

from bot.clock import Clock
from bot.domain.timefmt import local_time
from bot.services import notices
from bot.services.notices import Citation
from bot.services.outbox import owe
from bot.services.reports import Report, ReportKind
from coursedog.errors import CoursedogError
from coursedog.models import Schedule
from storage import audit, remote_writes, windows
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
# Owed comments looked at per claim: those of windows still waiting for their notice are
# passed over, so a later window's comment need not wait behind them.
_SCAN = 20


class CommentApi(Protocol):
    """The part of the Coursedog client that comments."""

    def post_activity_comment(self, text: str) -> None: ...


def comment_text(
    window: Window, env: str, kind: ReportKind, schedule: str, citation: Citation
) -> str:
    """What the comment says: the window, the change, and the notice and ticket it cites.

    ``schedule`` is the baseline for a switch-off, the verified schedule for a restore.
    """
    cited = [c for c in (citation.cited, f"ticket {window.ticket}" if window.ticket else None) if c]
    reference = f" Reference: {'; '.join(cited)}." if cited else ""
    unsent = f" {citation.unsent}" if citation.unsent else ""
    reason = f" ({window.reason})" if window.reason else ""
    checked = _CHECKED.get(kind, "verified by reading back")
    if PHASES.get(kind) == "off":
        until = f" until {local_time(window.ends_at, window.time_zone)}" if window.ends_at else ""
        return (
            f"sis-maint MW-{window.id}: merges switched off on {env} for planned SIS "
            f"maintenance{reason}{until}. Before: {schedule}; {checked}. "
            f"Edits made in Coursedog meanwhile reach the SIS after merges are back on."
            f"{reference}{unsent}"
        )
    return (
        f"sis-maint MW-{window.id}: SIS maintenance over; merge schedule on {env} restored to "
        f"{schedule}, {checked}.{reference}{unsent}"
    )


@dataclass(frozen=True)
class _Claimed:
    """An owed comment, now in flight, with the text it goes out with."""

    intent_id: int
    window_id: int | None
    phase: str
    text: str


class ActivityComments:
    """Owes a comment with each switched-off or restored outcome, then posts it once."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, *, wait: timedelta) -> None:
        """``wait``: how long an owed comment waits for the approval notice to go out."""
        self._sessions = sessions
        self._clock = clock
        self._wait = wait

    def owe(self, session: Session, reports: Sequence[Report]) -> None:
        """Record the comments ``reports`` warrant, in the transaction of their outcome.

        A crash between the outcome and the comment then delays the comment (the next pass
        over the environment posts it) instead of losing it.
        """
        for report in reports:
            phase = PHASES.get(report.kind)
            if phase is None or report.window_id is None:
                continue
            if _commented(session, report.window_id, report.environment, phase):
                continue
            if phase == "off":
                # What was on before the window is what the ledger recorded then; the report's
                # own "before" is the read that verified the switch-off, maybe after a person's.
                held = windows.held_baseline(session, report.environment)
                schedule = Schedule.of(held).describe() if held else None
            else:
                schedule = report.after.describe() if report.after else None
            session.add(
                RemoteWrite(
                    environment=report.environment,
                    operation=OPERATION,
                    window_id=report.window_id,
                    before=None,
                    desired={
                        "phase": phase,
                        "kind": report.kind.value,
                        "schedule": schedule or "unknown",
                    },
                    status="owed",
                    started_at=self._clock.now(),
                )
            )

    def post_owed(self, env: str, client: CommentApi | None, *, by_hand: bool) -> list[Report]:
        """Post the comments owed on ``env`` whose text is ready; reports for those that
        failed or, with ``by_hand`` (the assisted driver, which does not write to Coursedog),
        for the texts a person must paste.

        Each is claimed before it is sent, so it is sent at most once: one whose sender died
        mid-call is settled as abandoned by the next pass (see plans.read_plan). One still
        waiting for its notice stays owed; a later pass (woken when the notice goes out, or
        the periodic one) comes back to it.
        """
        failed: list[Report] = []
        more = True
        while more:
            claimed, more = self._claim_next(env)
            if claimed is None:
                break
            if by_hand or client is None:
                handed = Report(
                    claimed.window_id,
                    env,
                    ReportKind.COMMENT_BY_HAND,
                    text=claimed.text,
                    occurrence=claimed.intent_id,
                    detail=claimed.phase,
                )
                self._settle(claimed.intent_id, None, status="handed_over", report=handed)
                failed.append(handed)
                continue
            error: str | None = None
            try:
                client.post_activity_comment(claimed.text)
            except CoursedogError as exc:
                error = str(exc)
            refused = (
                None
                if error is None
                else Report(
                    claimed.window_id,
                    env,
                    ReportKind.COMMENT_FAILED,
                    detail=error,
                    text=claimed.text,
                    occurrence=claimed.intent_id,
                )
            )
            self._settle(claimed.intent_id, error, report=refused)
            if refused is not None:
                failed.append(refused)
        return failed

    def _claim_next(self, env: str) -> tuple[_Claimed | None, bool]:
        """The oldest owed comment on ``env`` that is ready, now in flight with its text, and
        whether others may be ready too."""
        with self._sessions.begin() as session:
            now = self._clock.now()
            owed = remote_writes.owed_comments(session, env, limit=_SCAN)
            waiting: set[int | None] = set()
            for position, intent in enumerate(owed):
                if intent.window_id in waiting:
                    continue  # after its window's earlier comment, which waits
                text = self._text(session, intent)
                if text is None:
                    waiting.add(intent.window_id)
                    continue
                intent.status, intent.started_at = "pending", now
                intent.desired = {**intent.desired, "text": text}
                later = owed[position + 1 :]
                claimed = _Claimed(intent.id, intent.window_id, str(intent.desired["phase"]), text)
                return claimed, any(r.window_id not in waiting for r in later)
            return None, False

    def _text(self, session: Session, row: RemoteWrite) -> str | None:
        """The comment's words as of now, or None while it should wait for its notice."""
        if "kind" not in row.desired:
            return str(row.desired["text"])  # owed with its words already written
        # The text needs the window's own columns, not its environments.
        window = session.get(Window, row.window_id, options=[lazyload(Window.environments)])
        assert window is not None
        citation = notices.citation(session, window.id)
        if not citation.settled and self._clock.now() - row.started_at < self._wait:
            return None
        kind = ReportKind(row.desired["kind"])
        return comment_text(window, row.environment, kind, str(row.desired["schedule"]), citation)

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
            audit.add(
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
