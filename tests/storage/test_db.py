"""SQLite engines: the writers of one process take turns on a lock, never in SQLite's busy wait."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from storage.db import make_engine

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
