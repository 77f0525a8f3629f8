"""The audit trail is append-only in the database and hash-chained; tampering is detected."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from storage import audit, ledger
from storage.db import alembic_config, make_engine, make_sessions
from storage.models import AuditEvent, Window
from storage.types import UTCDateTime
from tests.conftest import PG_BASE_URL, _truncate_all
from tests.tamper import tamper

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessions(engine)
    engine.dispose()


def add_events(sessions: sessionmaker[Session], count: int, *, actor: str = "U1") -> None:
    for n in range(count):
        with sessions.begin() as s:
            ledger.add_audit(
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


def verdict(sessions: sessionmaker[Session]) -> audit.Verdict:
    with sessions.begin() as s:
        return audit.verify(s)


def test_each_event_is_chained_to_the_one_before(sessions: sessionmaker[Session]) -> None:
    add_events(sessions, 3)
    with sessions.begin() as s:  # several in one transaction, in the order they were added
        for n in range(3):
            ledger.add_audit(s, at=T0, actor="U2", action=f"batch-{n}")
    rows = chain(sessions)
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0][1] == audit.GENESIS
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
        event = ledger.add_audit(s, at=T0, actor="U1", action="now")
        assert event.id is None
        ledger.append_audit_now(s)
        assert event.id == 1
    assert verdict(sessions).ok


def test_a_rolled_back_transaction_appends_nothing(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), sessions.begin() as s:
        ledger.add_audit(s, at=T0, actor="U1", action="lost")
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
        forged = audit.event_hash(_Forged(row, detail="nothing happened"), row.prev_hash)
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


def test_two_replicas_appending_at_once_keep_one_chain(database_url: str) -> None:
    engines = [make_engine(database_url, pool_size=4) for _ in range(2)]
    replicas = [make_sessions(engine) for engine in engines]
    per_thread, threads_per_replica = 15, 3
    start = threading.Barrier(len(replicas) * threads_per_replica)
    errors: list[BaseException] = []

    def append(sessions: sessionmaker[Session], name: str) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with sessions.begin() as s:
                    for k in range(1 + n % 3):  # one to three events per transaction
                        ledger.add_audit(s, at=T0, actor=name, action=f"{n}.{k}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=append, args=(replica, f"r{r}t{t}"))
        for r, replica in enumerate(replicas)
        for t in range(threads_per_replica)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    result = verdict(replicas[0])
    expected = len(threads) * sum(1 + n % 3 for n in range(per_thread))
    assert result.ok and result.events == expected
    for engine in engines:
        engine.dispose()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """The PostgreSQL test schema, emptied (skips, or fails in CI, without PostgreSQL)."""
    url: str = request.getfixturevalue("postgres_schema")
    engine = make_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.mark.postgres
def test_an_append_waiting_for_a_window_lock_does_not_hold_the_chain(
    postgres_url: str,
) -> None:
    """A holds a window FOR UPDATE and appends later; B appends about that window meanwhile.

    Were B to take the chain lock before the window's key-share lock, A would wait for B
    and B for A: PostgreSQL would abort one of them as a deadlock.
    """
    engine = make_engine(postgres_url)
    sessions = make_sessions(engine)
    with sessions.begin() as s:
        s.add(_window())
    a_holds, a_may_go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def a() -> None:
        try:
            with sessions.begin() as s:
                ledger.get_window(s, 1, lock=True)
                a_holds.set()
                assert a_may_go.wait(10)
                ledger.add_audit(s, at=T0, actor="A", action="approved", window_id=1)
        except BaseException as exc:
            errors.append(exc)

    def b() -> None:
        try:
            assert a_holds.wait(10)
            with sessions.begin() as s:
                ledger.add_audit(s, at=T0, actor="B", action="schedule_written", window_id=1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    assert _someone_waits_for_a_lock(engine)  # B is blocked behind A's window lock
    a_may_go.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert [actor for _, actor in _actors(sessions)] == ["A", "B"]
    assert verdict(sessions).ok
    engine.dispose()


def _window() -> Window:
    return Window(
        state="active",
        requester_id="U1",
        reason="",
        requested_at=T0,
        duration_seconds=3600,
        time_zone="UTC",
    )


def _actors(sessions: sessionmaker[Session]) -> list[tuple[int, str]]:
    with sessions.begin() as s:
        rows = s.execute(select(AuditEvent.id, AuditEvent.actor).order_by(AuditEvent.id))
        return [(r.id, r.actor) for r in rows.all()]


def _someone_waits_for_a_lock(engine: object, timeout: float = 10.0) -> bool:
    probe = make_engine(PG_BASE_URL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with probe.connect() as conn:
                waiting = conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
                if waiting.scalar_one():
                    return True
            time.sleep(0.02)
        return False
    finally:
        probe.dispose()


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database, with nothing migrated yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    request.getfixturevalue("postgres_schema")  # skips (or fails in CI) without PostgreSQL
    schema = f"sis_maint_fresh_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_BASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_BASE_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.parametrize(
    "fresh_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_migration_chains_existing_events_and_downgrades(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0002")
    engine = make_engine(fresh_url)
    before = sa.table(
        "audit_events",
        sa.column("at", UTCDateTime()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("detail", sa.Text()),
        sa.column("data", sa.JSON()),
    )
    with engine.begin() as conn:
        for n in range(5):
            row = {"at": T0 + timedelta(seconds=n), "detail": f"before {n}", "data": {"n": n}}
            conn.execute(before.insert().values(actor="U1", action="old", **row))
    command.upgrade(cfg, "head")
    sessions = make_sessions(engine)
    add_events(sessions, 2)
    result = verdict(sessions)
    assert result.ok and result.events == 7
    command.downgrade(cfg, "0002")
    with engine.begin() as conn:  # the triggers are gone with the chain
        conn.execute(text("UPDATE audit_events SET detail = 'x' WHERE id = 1"))
        conn.execute(text("DELETE FROM audit_events WHERE id = 2"))
    command.upgrade(cfg, "head")
    result = verdict(sessions)
    assert result.ok and result.events == 6
    engine.dispose()
