"""The statuses of due actions, as a string enum, and the moves between them.

Here, not in bot/domain, because only storage/due.py moves due actions (the scheduler's table)
and storage/models.py types the column with it; storage/ never imports bot/. The database
keeps the plain strings; a row read back carries the enum (storage.types.StrEnumType).
The states of windows, of their environments' rows and of notices are the domain's
(bot/domain/states.py).
"""

from __future__ import annotations

from enum import StrEnum


class DueStatus(StrEnum):
    """Where a due action stands (storage/due.py makes every move)."""

    PENDING = "pending"  # waits for its time (or for another attempt)
    RUNNING = "running"  # leased to a scheduler, which is running it
    DONE = "done"
    FAILED = "failed"  # gave up after its last attempt, or its payload was unreadable
    CANCELLED = "cancelled"  # its window moved on before it was due


D = DueStatus

# Due actions: claimed (again, once a lease ran out), finished, given back, or cancelled.
DUE_TRANSITIONS: dict[DueStatus, frozenset[DueStatus]] = {
    D.PENDING: frozenset({D.RUNNING, D.CANCELLED}),
    D.RUNNING: frozenset({D.RUNNING, D.DONE, D.FAILED, D.PENDING}),
    D.DONE: frozenset(),
    D.FAILED: frozenset(),
    D.CANCELLED: frozenset(),
}
