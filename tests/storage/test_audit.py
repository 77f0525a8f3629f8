"""The audit trail is append-only in the database and hash-chained; tampering is detected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from storage import audit, audit_chain
from storage.models import AuditEvent
from tests.tamper import tamper

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def add_events(sessions: sessionmaker[Session], count: int, *, actor: str = "U1") -> None:
    for n in range(count):
        with sessions.begin() as s:
            audit.add(
                s,
                at=T0 + timedelta(minutes=n),
                actor=actor,
                action="probe",
                environment="prod",
                detail=f"event {n} — ünïcode",
                data={"n": n, "nested": {"b": [1, 2.5, None], "a": True}},
            )


def chain(sessions: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    with sessions.begin() as s:
        rows = s.execute(select(AuditEvent.id, AuditEvent.prev_hash, AuditEvent.hash))
        return [(r.id, r.prev_hash, r.hash) for r in rows.all()]


def verdict(sessions: sessionmaker[Session]) -> audit_chain.Verdict:
    with sessions.begin() as s:
        return audit_chain.verify(s)


def test_each_event_is_chained_to_the_one_before(sessions: sessionmaker[Session]) -> None:
    add_events(sessions, 3)
    with sessions.begin() as s:  # several in one transaction, in the order they were added
        for n in range(3):
            audit.add(s, at=T0, actor="U2", action=f"batch-{n}")
    rows = chain(sessions)
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0][1] == audit_chain.GENESIS
    assert all(later[1] == earlier[2] for earlier, later in pairwise(rows))
    with sessions.begin() as s:
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[3:] == ["batch-0", "batch-1", "batch-2"]
    result = verdict(sessions)
    assert result.ok and result.events == 6 and result.head_id == 6
    assert result.head_hash == rows[-1][2]


def test_an_event_added_directly_is_chained_too(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.add(AuditEvent(at=T0, actor="U1", action="direct", detail="", data={}))
        s.flush()  # not inserted before the commit: the chain is appended last
        assert s.scalars(select(AuditEvent)).all() == []
    assert verdict(sessions).events == 1


def test_id_is_available_when_asked_for_inside_the_transaction(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        event = audit.add(s, at=T0, actor="U1", action="now")
        assert event.id is None
        audit.append_now(s)
        assert event.id == 1
    assert verdict(sessions).ok


def test_a_rolled_back_transaction_appends_nothing(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), sessions.begin() as s:
        audit.add(s, at=T0, actor="U1", action="lost")
        raise RuntimeError("the unit of work failed")
    add_events(sessions, 1)
    assert [r[0] for r in chain(sessions)] == [1] and verdict(sessions).ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET detail = 'rewritten' WHERE id = 2",
        "DELETE FROM audit_events WHERE id = 2",
        "UPDATE audit_events SET actor = 'U9'",
    ],
)
def test_the_database_refuses_to_change_or_remove_events(
    sessions: sessionmaker[Session], statement: str
) -> None:
    add_events(sessions, 3)
    before = chain(sessions)
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
        s.execute(text(statement))
    assert chain(sessions) == before


def test_the_orm_cannot_change_an_event_either(sessions: sessionmaker[Session]) -> None:
    add_events(sessions, 1)
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
        event = s.scalars(select(AuditEvent)).one()
        event.detail = "rewritten"
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
        s.delete(s.scalars(select(AuditEvent)).one())
    assert verdict(sessions).ok


@pytest.mark.parametrize(
    ("statement", "broken_at", "intact", "reason"),
    [
        ("UPDATE audit_events SET detail = 'no-op' WHERE id = 3", 3, 2, "changed after"),
        ("UPDATE audit_events SET actor = 'U9' WHERE id = 6", 6, 5, "changed after"),
        ("UPDATE audit_events SET at = at + INTERVAL '1 hour' WHERE id = 4", 4, 3, "changed after"),
        ("DELETE FROM audit_events WHERE id = 2", 3, 1, "removed or inserted"),
        ("DELETE FROM audit_events WHERE id = 1", 2, 0, "the start of the trail"),
        (
            "UPDATE audit_events SET prev_hash = 'g' || substr(prev_hash, 2) WHERE id = 5",
            5,
            4,
            "prev_hash",
        ),
    ],
)
def test_tampering_is_detected_at_the_first_altered_event(
    database_url: str,
    sessions: sessionmaker[Session],
    statement: str,
    broken_at: int,
    intact: int,
    reason: str,
) -> None:
    add_events(sessions, 6)
    assert verdict(sessions).ok
    if database_url.startswith("sqlite"):
        statement = statement.replace("at + INTERVAL '1 hour'", "datetime(at, '+1 hour')")
    tamper(database_url, statement)
    result = verdict(sessions)
    assert result.broken is not None
    assert result.broken.event_id == broken_at and reason in result.broken.reason
    assert result.events == intact


def test_a_rewritten_event_with_a_recomputed_hash_breaks_the_next_link(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    add_events(sessions, 4)
    with sessions.begin() as s:
        row = s.scalars(select(AuditEvent).where(AuditEvent.id == 2)).one()
        forged = audit_chain.event_hash(_Forged(row, detail="nothing happened"), row.prev_hash)
    tamper(
        database_url,
        f"UPDATE audit_events SET detail = 'nothing happened', hash = '{forged}' WHERE id = 2",
    )
    broken = verdict(sessions).broken
    assert broken is not None and broken.event_id == 3 and "event #2" in broken.reason


class _Forged:
    """An event's content with one field replaced, as a forger would rewrite it."""

    def __init__(self, row: AuditEvent, **changes: object) -> None:
        for name in ("id", "at", "actor", "action", "window_id", "environment", "detail", "data"):
            setattr(self, name, changes.get(name, getattr(row, name)))
