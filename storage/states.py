"""The values the ledger's state and status columns hold, as string enums.

They are here, not in bot/domain, because storage/models.py types its columns with them and
storage/ never imports bot/. Which moves between them are legal is a rule of the domain, and
lives there (bot/domain/states.py, which re-exports these), except for due actions: only the
scheduler's table (storage/due.py) moves those. The database keeps the plain strings; a row
read back carries the enum (storage.types.StrEnumType).
"""

from __future__ import annotations

from enum import StrEnum


class WindowState(StrEnum):
    """Where a window stands."""

    REQUESTED = "requested"
    APPROVED = "approved"
    ACTIVE = "active"
    ENDED = "ended"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


class RowStatus(StrEnum):
    """Where one environment of a window stands for that window."""

    PENDING = "pending"  # not switched off yet
    EARLY = "early"  # an approved window's checklist opened before its start
    OFF = "off"  # merges verified off for this window
    FAILED = "failed"  # switching off failed (retried)
    ENDING = "ending"  # the window is over: owed its restore
    RESTORE_FAILED = "restore_failed"  # the restore failed or waits for a person (retried)
    RESTORED = "restored"  # what the baseline holds is back on
    HANDED_OVER = "handed_over"  # another window holds the environment now
    RELEASED = "released"  # the window never switched it off (denied, expired, cancelled)


class NoticeStatus(StrEnum):
    """Where a notice to Coursedog support stands."""

    PENDING = "pending"  # planned; not yet emailed or drafted
    SENT = "sent"  # emailed
    DRAFT = "draft"  # not emailed: posted in the thread for a person to send
    CONFIRMED = "confirmed"  # a person says they sent the draft


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
