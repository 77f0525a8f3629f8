"""Run work on another thread until it waits for a lock the test's transaction holds.

On PostgreSQL the wait is seen in ``pg_blocking_pids``. On SQLite every writer waits at its
``BEGIN IMMEDIATE`` until the one before it has committed (see storage.sqlite_writers), so the
work sees the test's commit whenever it starts: the helper does not wait. Races between
statements of one transaction are PostgreSQL's (SQLite reads one snapshot per transaction and
runs one writer at a time), so tests built on this prove something there; on SQLite they check
the outcome only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

T = TypeVar("T")
BLOCKED_BY = text(
    "SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"
)


def behind_lock(holder: Session, work: Callable[[], T], timeout: float = 10.0) -> Future[T]:
    """Start ``work`` on its own thread; return once it waits for a lock that ``holder``'s
    transaction holds (or has ended)."""
    engine = holder.get_bind()
    postgres = engine.dialect.name == "postgresql"
    pid = holder.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar() if postgres else 0
    pool = ThreadPoolExecutor(1, thread_name_prefix="behind-lock")
    future = pool.submit(work)
    pool.shutdown(wait=False)
    if not postgres:
        return future
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while not future.done():
            if conn.execute(BLOCKED_BY, {"holder": pid}).scalar_one():
                return future
            if time.monotonic() > deadline:
                raise AssertionError("the work never waited for the test's lock")
            conn.rollback()
            time.sleep(0.01)
    return future
