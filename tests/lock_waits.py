"""Run work on another thread until it waits for a lock the test holds.

On PostgreSQL the wait is seen in ``pg_stat_activity``. On SQLite every writer waits at its
``BEGIN IMMEDIATE`` for the one before it (see storage.sqlite_writers), which nothing shows: the
helper gives the thread a moment to get there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine, text

T = TypeVar("T")
WAITING = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def behind_lock(engine: Engine, work: Callable[[], T], timeout: float = 10.0) -> Future[T]:
    """Start ``work`` on its own thread and return once it waits for a lock (or has ended)."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="behind-lock")
    future = pool.submit(work)
    pool.shutdown(wait=False)
    if engine.dialect.name != "postgresql":
        time.sleep(0.2)
        return future
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while not future.done():
            if conn.execute(WAITING).scalar_one():
                return future
            if time.monotonic() > deadline:
                raise AssertionError("the work never waited for the lock")
            conn.rollback()
            time.sleep(0.01)
    return future
