"""Planning due actions, on SQLite and PostgreSQL: once per key, and the soonest one noted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import due
from storage.models import DueAction
from tests.storage.ledgers import T0

HOUR = timedelta(hours=1)


def test_an_action_is_planned_once_per_key_and_says_whether_it_went_in(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        first = due.schedule_action(s, kind="probe", due_at=T0, dedup_key="probe:1", now=T0)
        again = due.schedule_action(s, kind="probe", due_at=T0 + HOUR, dedup_key="probe:1", now=T0)
    with sessions.begin() as s:
        later = due.schedule_action(s, kind="probe", due_at=T0, dedup_key="probe:1", now=T0)
        rows = s.execute(select(DueAction.dedup_key, DueAction.due_at)).all()
    assert (first, again, later) == (True, False, False)
    assert rows == [("probe:1", T0)]  # the duplicate changed nothing


def test_the_soonest_urgent_action_a_transaction_planned_is_noted_to_wake_the_scheduler(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        due.schedule_action(s, kind="probe", due_at=T0 + 2 * HOUR, dedup_key="b", now=T0)
        due.schedule_action(s, kind="probe", due_at=T0 + HOUR, dedup_key="a", now=T0)
        # Not urgent: it waits for the scheduler's next look and wakes nobody.
        due.schedule_action(s, kind="probe", due_at=T0, dedup_key="c", now=T0, urgent=False)
        # A duplicate is not planned by this transaction, however soon it is due.
        due.schedule_action(s, kind="probe", due_at=T0 - HOUR, dedup_key="a", now=T0)
        soonest = due.soonest_planned(s)
        count = s.scalar(select(func.count()).select_from(DueAction))
    assert soonest == T0 + HOUR
    assert count == 3
    with sessions.begin() as s:
        due.schedule_action(s, kind="probe", due_at=T0, dedup_key="a", now=T0)
        assert due.soonest_planned(s) is None  # nothing new: nothing to wake the scheduler for
