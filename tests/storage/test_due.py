"""Planning due actions, on SQLite and PostgreSQL: once per key, and the soonest one noted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import due
from storage.models import DueAction
from storage.states import DUE_TRANSITIONS, DueStatus
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


def test_a_due_action_moves_only_as_its_table_allows(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        due.schedule_action(s, kind="probe", due_at=T0, dedup_key="probe:1", now=T0)
        due.schedule_action(s, kind="probe", due_at=T0, dedup_key="probe:2", now=T0)
    with sessions.begin() as s:
        first, second = due.claim_due(s, owner="one", now=T0, lease=HOUR, limit=2)
        held = due.held(s, first, "one")
        assert held is not None and held.status == DueStatus.RUNNING
        due.finish(held, T0)
        assert held.status == DueStatus.DONE
        with pytest.raises(due.IllegalDueMove, match="is done; it cannot become pending"):
            due.retry_later(held, T0 + HOUR, "again")
        with pytest.raises(due.IllegalDueMove, match="is done; it cannot become failed"):
            due.finish(held, T0, status=DueStatus.FAILED)
        other = due.held(s, second, "one")
        assert other is not None
        due.retry_later(other, T0 + HOUR, "later")
        assert other.status == DueStatus.PENDING


def test_the_due_table_has_a_move_out_of_every_live_status() -> None:
    assert {s for s, targets in DUE_TRANSITIONS.items() if not targets} == {
        DueStatus.DONE,
        DueStatus.FAILED,
        DueStatus.CANCELLED,
    }
    assert set(DUE_TRANSITIONS) == set(DueStatus)
