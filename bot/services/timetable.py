"""Which due actions a window has: planned when it is requested, approved or extended."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.config import Policy
from bot.domain.due_payloads import MergeWatch, Nag, RunningMergeWatch, write
from storage import due
from storage.models import Window

EXPIRE = "expire"
REMIND_START = "remind_before_start"
START = "start"
REMIND_END = "remind_before_end"
END = "end"
NAG = "nag"
WATCH_MERGE = "watch_merge"
WATCH_RUNNING_MERGE = "watch_running_merge"

END_KINDS = (REMIND_END, END, NAG)
ALL_KINDS = (EXPIRE, REMIND_START, START, *END_KINDS)


def _stamp(at: datetime) -> int:
    return int(at.timestamp())


def plan_expiry(session: Session, window: Window, expires_at: datetime, now: datetime) -> None:
    """A request not decided by ``expires_at`` expires."""
    due.schedule_action(
        session,
        kind=EXPIRE,
        due_at=expires_at,
        dedup_key=f"{EXPIRE}:{window.id}",
        now=now,
        window_id=window.id,
    )


def _plan_with_reminder(
    session: Session,
    window: Window,
    *,
    kind: str,
    reminder: str,
    at: datetime,
    lead: timedelta,
    now: datetime,
) -> None:
    """An action at ``at`` and, if there is still time for it, a reminder ``lead`` before."""
    stamp = _stamp(at)
    if at - lead > now:
        due.schedule_action(
            session,
            kind=reminder,
            due_at=at - lead,
            dedup_key=f"{reminder}:{window.id}:{stamp}",
            now=now,
            window_id=window.id,
        )
    due.schedule_action(
        session,
        kind=kind,
        due_at=at,
        dedup_key=f"{kind}:{window.id}:{stamp}",
        now=now,
        window_id=window.id,
    )


def plan_start(session: Session, window: Window, policy: Policy, now: datetime) -> None:
    """An approved window: remind before the start, then start."""
    assert window.starts_at is not None
    _plan_with_reminder(
        session,
        window,
        kind=START,
        reminder=REMIND_START,
        at=window.starts_at,
        lead=policy.remind_before_start,
        now=now,
    )


def plan_end(session: Session, window: Window, policy: Policy, now: datetime) -> None:
    """An active window: remind before the end, then end (or start nagging)."""
    assert window.ends_at is not None
    _plan_with_reminder(
        session,
        window,
        kind=END,
        reminder=REMIND_END,
        at=window.ends_at,
        lead=policy.remind_before_end,
        now=now,
    )


def plan_nag(session: Session, window: Window, number: int, at: datetime, now: datetime) -> None:
    """The ``number``-th "time to re-enable" notice for the window's current end."""
    assert window.ends_at is not None
    due.schedule_action(
        session,
        kind=NAG,
        due_at=at,
        dedup_key=f"{NAG}:{window.id}:{_stamp(window.ends_at)}:{number}",
        now=now,
        window_id=window.id,
        payload=write(Nag(number)),
    )


def cancel_end_actions(session: Session, window: Window, now: datetime) -> None:
    """Drop reminders and the end of the window's current end time (extended or ended)."""
    due.cancel_actions(session, window.id, END_KINDS, now)


def cancel_all(session: Session, window: Window, now: datetime) -> None:
    """Drop every pending action of a window that is over."""
    due.cancel_actions(session, window.id, ALL_KINDS, now)


def plan_merge_watch(session: Session, watch: MergeWatch, at: datetime, now: datetime) -> None:
    """Look at the merge history at ``at`` for the first merge after a restore (one look
    per restore and number)."""
    stamp = _stamp(watch.restored_at)
    _plan_look(session, WATCH_MERGE, f"{stamp}", watch, at=at, now=now)


def plan_running_merge_watch(
    session: Session, watch: RunningMergeWatch, at: datetime, now: datetime
) -> None:
    """Look at the merge history at ``at`` for the end of a merge found running at a window's
    start (one look per merge and number)."""
    what = f"{watch.schedule_type}:{watch.job_id[:80]}"
    _plan_look(session, WATCH_RUNNING_MERGE, what, watch, at=at, now=now)


def _plan_look(
    session: Session,
    kind: str,
    what: str,
    watch: MergeWatch | RunningMergeWatch,
    *,
    at: datetime,
    now: datetime,
) -> None:
    """One look of a watch of an environment's merge history; ``what`` tells its watches of
    one window and environment apart, and the watch's number its looks."""
    due.schedule_action(
        session,
        kind=kind,
        due_at=at,
        dedup_key=f"{kind}:{watch.window_id}:{watch.environment}:{what}:{watch.number}",
        now=now,
        window_id=watch.window_id,
        environment=watch.environment,
        payload=write(watch),
    )
