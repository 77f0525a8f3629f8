from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from storage.db import make_engine, make_sessions
from storage.models import AuditEvent


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
