"""Messages owed to Slack until it has them: reports on Coursedog outcomes, and direct
messages to requesters (told apart by their keys' prefixes). Functions take the
caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from storage.dialect_insert import insert_new
from storage.models import PendingReport, SlackNotice


def owe_reports(
    session: Session, reports: Iterable[tuple[str, dict[str, Any]]], now: datetime
) -> None:
    """Keep reports (dedup key, payload) until Slack has them; a known key is kept once.

    One ``INSERT ... ON CONFLICT DO NOTHING`` each: a key another replica owes already costs
    neither a savepoint nor an error.
    """
    stmt = insert_new(session, PendingReport, "dedup_key")
    for key, payload in reports:
        session.execute(stmt, {"dedup_key": key, "payload": payload, "created_at": now})


def owed_reports(session: Session, prefix: str, limit: int = 50) -> Sequence[PendingReport]:
    """Reports whose key starts with ``prefix`` not yet known to be posted, oldest first."""
    stmt = (
        select(PendingReport)
        .where(PendingReport.dedup_key.startswith(prefix, autoescape=True))
        .order_by(PendingReport.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def owed_among(session: Session, keys: Collection[str]) -> set[str]:
    """Which of ``keys`` are still owed."""
    if not keys:
        return set()
    stmt = select(PendingReport.dedup_key).where(PendingReport.dedup_key.in_(keys))
    return set(session.scalars(stmt).all())


def settle_report(session: Session, key: str, *, posted_only: bool = True) -> None:
    """Forget an owed report: once its notice is posted, or unconditionally."""
    stmt = delete(PendingReport).where(PendingReport.dedup_key == key)
    if posted_only:
        posted = (SlackNotice.dedup_key == key) & SlackNotice.ts.is_not(None)
        stmt = stmt.where(exists().where(posted))
    session.execute(stmt)
