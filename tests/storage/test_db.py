"""SQLite engines: writers of one process take turns on a lock, never in SQLite's busy wait;
readers take no turn at all."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from storage.db import make_engine, make_sessions, reading
from storage.models import Base, EnvironmentLease

THREADS = 8
EACH = 10


def impatient_engine(path: Path) -> Any:
    """An engine on a fresh file whose SQLite busy timeout is zero: a writer SQLite makes wait
    fails at once with "database is locked"."""
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE marks (thread INTEGER, n INTEGER)"))
    return engine


def test_writers_of_one_process_queue_in_turn(tmp_path: Path) -> None:
    engine = impatient_engine(tmp_path / "turns.db")
    errors: list[BaseException] = []
    gate = threading.Barrier(THREADS)

    def writer(thread: int) -> None:
        gate.wait()
        try:
            for n in range(EACH):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO marks VALUES (:t, :n)"), {"t": thread, "n": n})
                    time.sleep(0.001)  # hold the write lock while the others arrive
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM marks")).scalar_one() == THREADS * EACH
    engine.dispose()


def test_a_failed_transaction_gives_the_turn_back(tmp_path: Path) -> None:
    engine = impatient_engine(tmp_path / "rollback.db")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO marks VALUES (1, 1)"))
        raise RuntimeError("abandoned")
    done = threading.Event()

    def next_writer() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO marks VALUES (2, 1)"))
        done.set()

    threading.Thread(target=next_writer).start()
    assert done.wait(10)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT thread FROM marks")).scalars().all() == [2]
    engine.dispose()


def test_another_process_still_waits_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    first, second = make_engine(f"sqlite:///{path}"), make_engine(f"sqlite:///{path}")
    with first.begin() as conn:
        conn.execute(text("CREATE TABLE marks (n INTEGER)"))
    finished = threading.Event()

    def other() -> None:  # a second engine stands for a second process: SQLite queues it
        with second.begin() as conn:
            conn.execute(text("INSERT INTO marks VALUES (2)"))
        finished.set()

    with first.begin() as conn:
        conn.execute(text("INSERT INTO marks VALUES (1)"))
        threading.Thread(target=other).start()
        assert not finished.wait(0.2)  # held by the first engine's transaction
    assert finished.wait(10)
    with first.connect() as conn:
        assert conn.execute(text("SELECT n FROM marks ORDER BY n")).scalars().all() == [1, 2]
    first.dispose()
    second.dispose()


def test_a_reader_reads_its_snapshot_beside_a_writer_and_never_waits_for_its_turn(
    tmp_path: Path,
) -> None:
    engine = impatient_engine(tmp_path / "readers.db")
    sessions = make_sessions(engine)
    writing, read_done = threading.Event(), threading.Event()

    def writer() -> None:
        with engine.begin() as conn:  # holds this process's turn and SQLite's write lock
            conn.execute(text("INSERT INTO marks VALUES (1, 1)"))
            writing.set()
            read_done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(10)
    with reading(sessions) as session:
        seen = session.execute(text("SELECT count(*) FROM marks")).scalar_one()
    read_done.set()
    thread.join(10)
    assert seen == 0  # the uncommitted row is not in the reader's snapshot
    with reading(sessions) as session:
        assert session.execute(text("SELECT count(*) FROM marks")).scalar_one() == 1
    engine.dispose()


def test_a_reading_transaction_refuses_to_change_anything(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'guard.db'}")
    Base.metadata.create_all(engine)
    sessions = make_sessions(engine)
    with pytest.raises(RuntimeError, match="read-only"), reading(sessions) as session:
        session.add(EnvironmentLease(environment="prod"))
        session.flush()
    with sessions.begin() as session:  # an ordinary unit of work may
        session.add(EnvironmentLease(environment="prod"))
    with reading(sessions) as session:
        assert session.get(EnvironmentLease, "prod") is not None
    engine.dispose()
