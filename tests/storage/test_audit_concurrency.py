"""Appending to the audit trail from many threads and two replicas at once keeps one chain."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from storage import audit, windows
from storage.db import make_engine, make_sessions
from storage.models import AuditEvent, Window
from tests.conftest import PG_BASE_URL, _truncate_all
from tests.storage.test_audit import T0, verdict


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
                        audit.add(s, at=T0, actor=name, action=f"{n}.{k}")
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
                windows.get_window(s, 1, lock=True)
                a_holds.set()
                assert a_may_go.wait(10)
                audit.add(s, at=T0, actor="A", action="approved", window_id=1)
        except BaseException as exc:
            errors.append(exc)

    def b() -> None:
        try:
            assert a_holds.wait(10)
            with sessions.begin() as s:
                audit.add(s, at=T0, actor="B", action="schedule_written", window_id=1)
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
