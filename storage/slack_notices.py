"""Slack notices: one claim per dedup key, so each message is posted once. Functions take
the caller's session and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.dialect_insert import insert_new
from storage.models import SlackNotice


def claim_notice(
    session: Session,
    dedup_key: str,
    channel: str,
    thread_ts: str | None,
    now: datetime,
    *,
    stale_after: timedelta | None = None,
) -> int | None:
    """Reserve a notice key; its row's id, or None when it was already posted (or is being
    posted). One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` when the key is new.

    With ``stale_after``, a claim that never got its ts that long after it was made (its
    poster died between the claim and the post) is taken over.
    """
    claimed = session.scalar(
        insert_new(session, SlackNotice, "dedup_key", returning="id"),
        {"dedup_key": dedup_key, "channel": channel, "thread_ts": thread_ts, "created_at": now},
    )
    if claimed is not None or stale_after is None:
        return None if claimed is None else int(claimed)
    return session.scalar(
        update(SlackNotice)
        .where(
            SlackNotice.dedup_key == dedup_key,
            SlackNotice.ts.is_(None),
            SlackNotice.created_at < now - stale_after,
        )
        .values(created_at=now)
        .returning(SlackNotice.id)
    )


def settle_notice(session: Session, notice_id: int, ts: str) -> None:
    """A claimed notice was posted: keep its ts (a later claim of its key finds it posted)."""
    session.execute(update(SlackNotice).where(SlackNotice.id == notice_id).values(ts=ts))


def free_notice(session: Session, notice_id: int) -> None:
    """A claimed notice was not posted: free its key so that a later attempt may post it."""
    session.execute(delete(SlackNotice).where(SlackNotice.id == notice_id))


def posted_message(session: Session, dedup_key: str) -> tuple[str, str] | None:
    """Where the notice of ``dedup_key`` was posted (channel, ts), or None if it was not."""
    row = session.execute(
        select(SlackNotice.channel, SlackNotice.ts).where(SlackNotice.dedup_key == dedup_key)
    ).first()
    return (row.channel, row.ts) if row is not None and row.ts else None


def is_posted(session: Session, dedup_key: str) -> bool:
    """Whether Slack has the notice ``dedup_key`` (its claim was settled with a ts)."""
    stmt = select(SlackNotice.id).where(
        SlackNotice.dedup_key == dedup_key, SlackNotice.ts.is_not(None)
    )
    return session.scalar(stmt) is not None
