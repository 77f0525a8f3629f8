from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import StatementError

from storage import due
from storage.db import make_engine, make_sessions
from storage.models import AuditEvent, DueAction
from storage.states import DueStatus
from tests.storage.ledgers import T0


def test_aware_times_round_trip_as_utc_and_naive_ones_are_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    chicago = timezone(timedelta(hours=-6))
    with sessions.begin() as s:
        s.add(
            AuditEvent(
                at=datetime(2026, 3, 8, 1, 30, tzinfo=chicago),
                actor="x",
                action="y",
                detail="",
                data={},
            )
        )
    with sessions.begin() as s:
        at = s.scalars(select(AuditEvent.at)).one()
    assert at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC) and at.tzinfo is UTC
    with pytest.raises(StatementError, match="refusing naive datetime"), sessions.begin() as s:
        s.add(AuditEvent(at=datetime(2026, 3, 8, 1, 30), actor="x", action="y", detail="", data={}))
    engine.dispose()


def test_a_status_is_kept_as_its_plain_value_and_read_back_as_the_enum(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    with sessions.begin() as s:
        due.schedule_action(s, kind="probe", due_at=T0, dedup_key="probe:1", now=T0)
        due.schedule_action(s, kind="probe", due_at=T0, dedup_key="probe:2", now=T0)
        s.execute(update(DueAction).where(DueAction.dedup_key == "probe:2").values(status="done"))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT status FROM due_actions ORDER BY id")).scalars().all()
    assert stored == ["pending", "done"] and all(type(v) is str for v in stored)
    with sessions.begin() as s:
        read = s.scalars(select(DueAction.status).order_by(DueAction.id)).all()
        pending = s.scalars(select(DueAction).where(DueAction.status == "pending")).one()
    assert read == [DueStatus.PENDING, DueStatus.DONE] and type(read[0]) is DueStatus
    assert pending.dedup_key == "probe:1"
    refused = pytest.raises(StatementError, match="'sideways' is not a valid DueStatus")
    with refused, sessions.begin() as s:
        s.execute(update(DueAction).values(status="sideways"))
    engine.dispose()
