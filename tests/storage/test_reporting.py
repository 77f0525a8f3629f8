"""The operators' queries, on SQLite and PostgreSQL: bounded, per environment, aware times."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage import audit, due, reporting
from tests.storage.ledgers import DAY, T0, add_window

OPEN = ("requested", "approved", "active", "failed")


def test_the_feed_holds_open_windows_and_closed_ones_only_while_recent(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        old_ended = add_window(s, "ended", ("prod",), T0 - 30 * DAY, ended_at=T0 - 30 * DAY)
        old_cancelled = add_window(s, "cancelled", ("prod",), T0 - 20 * DAY)
        future_cancelled = add_window(s, "cancelled", ("prod",), T0 + 5 * DAY)
        recent_denied = add_window(s, "denied", ("staging",), T0 - 20 * DAY, decided_at=T0 - DAY)
        long_active = add_window(s, "active", ("prod", "staging"), T0 - 60 * DAY)
        upcoming = add_window(s, "approved", ("staging",), T0 + 2 * DAY)
    since = T0 - 7 * DAY
    with sessions.begin() as s:
        every = {w.id for w in reporting.feed_windows(s, open_states=OPEN, since=since)}
        prod = {
            w.id
            for w in reporting.feed_windows(s, open_states=OPEN, since=since, environment="prod")
        }
        few = reporting.feed_windows(s, open_states=OPEN, since=since, limit=2)
    assert every == {future_cancelled, recent_denied, long_active, upcoming}
    assert old_ended not in every and old_cancelled not in every
    assert prod == {future_cancelled, long_active}
    assert [w.id for w in few] == [upcoming, long_active]  # newest first, bounded


def test_last_changes_come_from_the_audit_trail_as_aware_utc(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        first = add_window(s, "approved", ("prod",), T0)
        second = add_window(s, "requested", ("prod",), T0)
        for minutes in (1, 9, 4):
            audit.add(
                s, at=T0 + timedelta(minutes=minutes), actor="U1", action="x", window_id=first
            )
    with sessions.begin() as s:
        changes = reporting.last_changes(s, [first, second])
        assert reporting.last_changes(s, []) == {}
    assert changes == {first: T0 + timedelta(minutes=9)}
    assert changes[first].tzinfo is not None


def test_windows_are_counted_by_state(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for state in ("requested", "requested", "active", "ended"):
            add_window(s, state, ("prod",), T0)
    with sessions.begin() as s:
        assert reporting.window_counts(s) == {"requested": 2, "active": 1, "ended": 1}


def test_due_and_late_actions_include_expired_leases_and_exclude_finished_ones(
    sessions: sessionmaker[Session],
) -> None:
    times = {"future": T0 + DAY, "now": T0, "late": T0 - DAY, "finished": T0 - 3 * DAY}
    with sessions.begin() as s:
        for key, at in times.items():
            due.schedule_action(s, kind="start", due_at=at, dedup_key=key, now=T0 - 4 * DAY)
    with sessions.begin() as s:
        claimed = due.claim_due(s, owner="gone", now=T0, lease=timedelta(minutes=2), limit=2)
        assert [c.dedup_key for c in claimed] == ["finished", "late"]
        row = due.held(s, claimed[0], "gone")
        assert row is not None
        due.finish(row, T0)
    minute = timedelta(minutes=1)
    with sessions.begin() as s:
        # "late" is leased and being worked on: neither due nor late while its lease runs.
        assert reporting.due_counts(s, now=T0, late_before=T0 - minute) == (1, 0)
        # Its owner vanished: once the lease has run out it waits again, and is late.
        later = T0 + 5 * minute
        assert reporting.due_counts(s, now=later, late_before=later - minute) == (2, 2)
        assert reporting.due_counts(s, now=T0 + 2 * DAY, late_before=T0) == (3, 1)
