"""SQLite connections whose writers, within one process, take turns on a lock of their own.

Every transaction on SQLite begins with ``BEGIN IMMEDIATE`` (see storage.db), so only one runs at
a time. Left to SQLite, a writer that finds the file locked sleeps in its busy handler, in steps
that grow to 100 ms, and the threads of one busy process wake up late and in no order. Here the
writers of one engine wait on a lock instead and start the moment the one before them has
committed or rolled back; SQLite's busy timeout still governs other processes on the same file.
"""

from __future__ import annotations

import sqlite3
import threading


def queued_connection_class(timeout: float) -> type[sqlite3.Connection]:
    """A ``sqlite3.Connection`` class (for ``sqlite3.connect(factory=...)``) whose write
    transactions queue on one lock shared by all its connections.

    A writer waits at most ``timeout`` seconds for its turn; after that it asks SQLite anyway
    and SQLite's own busy timeout decides.
    """
    turn = threading.Lock()

    class QueuedWriters(sqlite3.Connection):
        """A connection that holds the lock from ``begin_immediate`` to commit or rollback."""

        _holds_turn = False

        def begin_immediate(self) -> None:
            """Wait for this process's turn, then take SQLite's write lock."""
            self._holds_turn = turn.acquire(timeout=timeout)
            try:
                self.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._end_turn()
                raise

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._end_turn()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._end_turn()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._end_turn()

        def _end_turn(self) -> None:
            if self._holds_turn:
                self._holds_turn = False
                turn.release()

    return QueuedWriters
