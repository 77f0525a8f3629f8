"""Overlapping windows as the database finds them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage import recurring
from tests.storage.ledgers import T0, add_window

HOUR = timedelta(hours=1)
SCHEDULED = ("requested", "approved", "active", "failed")


def summary(
    session: Session, *, start: datetime, now: datetime, exclude: int, cap: int
) -> tuple[list[tuple[int, tuple[str, ...]]], int]:
    found, total = recurring.overlap_summary(
        session,
        ["prod"],
        start,
        start + 2 * HOUR,
        SCHEDULED,
        now=now,
        exclude=exclude,
        shown=3,
        cap=cap,
    )
    return [(w.id, w.environments) for w in found], total


def test_the_summary_names_the_oldest_overlaps_and_counts_the_rest_up_to_the_cap(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        this = add_window(s, "requested", ("prod",), T0)
        # Run from approval: [now, now + 2h).
        from_approval = [add_window(s, "requested", ("prod",), None) for _ in range(3)]
        both = add_window(s, "active", ("staging", "prod"), T0 + HOUR)
        add_window(s, "requested", ("staging",), T0)  # another environment
        add_window(s, "cancelled", ("prod",), T0)  # no longer scheduled
        after = add_window(s, "approved", ("prod",), T0 + 2 * HOUR)  # starts as this one ends
        add_window(s, "approved", ("prod",), T0 - 2 * HOUR)  # ends as this one starts
        # Failed to restore: holds its environments off with no end.
        last = add_window(s, "failed", ("prod",), T0 - HOUR, ends_at=None)
    with sessions.begin() as s:
        shown, total = summary(s, start=T0, now=T0, exclude=this, cap=100)
        assert shown == [(w, ("prod",)) for w in from_approval]
        assert total == 5
        shown, total = summary(s, start=T0, now=T0, exclude=from_approval[0], cap=100)
        assert [w for w, _ in shown] == [this, *from_approval[1:]]
        assert total == 5
        # The count stops at the cap.
        assert summary(s, start=T0, now=T0, exclude=this, cap=4)[1] == 4
        # Past its end, a window that runs from approval overlaps nothing later.
        shown, total = summary(s, start=T0, now=T0 + 3 * HOUR, exclude=this, cap=100)
        assert shown == [(both, ("staging", "prod")), (last, ("prod",))]
        assert total == 2
        # A span that starts after the from-approval windows would end does not meet them.
        shown, total = summary(s, start=T0 + 3 * HOUR, now=T0, exclude=this, cap=100)
        assert shown == [(after, ("prod",)), (last, ("prod",))] and total == 2
        assert summary(s, start=T0 + 30 * HOUR, now=T0, exclude=last, cap=100) == ([], 0)
