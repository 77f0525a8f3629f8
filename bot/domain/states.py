"""The state machines of windows, their environments' rows and notices to Coursedog: the one
place that knows which moves are legal.

Each is a string enum, a transition table over it and one function that moves a row, refusing
an illegal move with IllegalTransition. Services move windows, their environments' rows and
notices only through ``move_window``, ``move_row`` and ``move_notice``
(tests/bot/test_ledger_writers.py holds them to it).

The enums are here, with their rules, because the domain imports nothing of storage; the
ledger's columns keep the same values as plain strings (a StrEnum is a str, so a row's value
compares equal to its member). Due actions are the exception: storage/due.py alone moves them,
so their enum and table are storage/states.py's.

A window:

```mermaid
stateDiagram-v2
    [*] --> requested
    requested --> approved: approve (start in the future)
    requested --> active: approve (start now or past)
    requested --> denied
    requested --> cancelled
    requested --> expired: no decision before start
    approved --> active: start time reached
    approved --> cancelled
    approved --> expired: its whole time passed while the bot was down
    active --> ended
    active --> failed: Coursedog refused or could not be verified
    failed --> active: a later attempt verified
    failed --> ended
    ended --> [*]
```

One environment of a window (its row); a failed step is retried, and says so once:

```mermaid
stateDiagram-v2
    [*] --> pending
    pending --> early: its checklist opened before the start
    pending --> off: merges verified off
    early --> off
    pending --> failed
    early --> failed
    off --> failed: unreadable or switched back on, and not verified off again
    failed --> off: a later attempt verified
    pending --> ending: the window ended
    early --> ending
    off --> ending
    failed --> ending
    pending --> released: denied, expired or cancelled before its start
    ending --> restored
    ending --> restore_failed
    restore_failed --> restore_failed: another reason (a question for a person)
    restore_failed --> restored
    ending --> handed_over: another window holds the environment
    restore_failed --> handed_over
    restored --> [*]
    handed_over --> [*]
    released --> [*]
```

A notice to Coursedog support: ``pending -> sent``, or ``pending -> draft -> confirmed``
(a person sent the draft). A draft nobody sent yet is ``superseded`` by the next notice of the
same window that says it all again (``draft -> superseded``); a person who sent that older
text all the same records it (``superseded -> confirmed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from bot.errors import IllegalTransition

__all__ = [
    "FINAL",
    "HOLDING",
    "NOTICE_TRANSITIONS",
    "ROW_TRANSITIONS",
    "TRANSITIONS",
    "Machine",
    "NoticeStatus",
    "RowStatus",
    "WindowState",
    "can_transition",
    "move_notice",
    "move_row",
    "move_window",
    "transition",
]

E = TypeVar("E", bound=StrEnum)


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
    SUPERSEDED = "superseded"  # a draft nobody sent, replaced by a newer version


@dataclass(frozen=True)
class Machine(Generic[E]):
    """A transition table over the values of ``states``; ``what`` names a row in errors."""

    what: str
    states: type[E]
    transitions: Mapping[E, frozenset[E]]

    def can(self, current: E | str, target: E) -> bool:
        """Whether ``current -> target`` is a legal move."""
        return target in self.transitions[self.states(current)]

    def check(self, current: E | str, target: E) -> E:
        """Return ``target`` if the move is legal, else raise IllegalTransition."""
        if not self.can(current, target):
            raise IllegalTransition(f"{self.what} that is {current} cannot become {target}")
        return target

    def edges(self) -> frozenset[tuple[E, E]]:
        """Every legal move, as (from, to)."""
        return frozenset((a, b) for a, targets in self.transitions.items() for b in targets)


S, R, N = WindowState, RowStatus, NoticeStatus

TRANSITIONS: dict[WindowState, frozenset[WindowState]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.ACTIVE, S.DENIED, S.CANCELLED, S.EXPIRED}),
    S.APPROVED: frozenset({S.ACTIVE, S.CANCELLED, S.EXPIRED}),
    S.ACTIVE: frozenset({S.ENDED, S.FAILED}),
    S.FAILED: frozenset({S.ACTIVE, S.ENDED}),
    S.ENDED: frozenset(),
    S.DENIED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}
ROW_TRANSITIONS: dict[RowStatus, frozenset[RowStatus]] = {
    R.PENDING: frozenset({R.EARLY, R.OFF, R.FAILED, R.ENDING, R.RELEASED}),
    R.EARLY: frozenset({R.OFF, R.FAILED, R.ENDING}),
    R.OFF: frozenset({R.FAILED, R.ENDING}),
    R.FAILED: frozenset({R.OFF, R.ENDING}),
    R.ENDING: frozenset({R.RESTORED, R.RESTORE_FAILED, R.HANDED_OVER}),
    R.RESTORE_FAILED: frozenset({R.RESTORED, R.RESTORE_FAILED, R.HANDED_OVER}),
    R.RESTORED: frozenset(),
    R.HANDED_OVER: frozenset(),
    R.RELEASED: frozenset(),
}
NOTICE_TRANSITIONS: dict[NoticeStatus, frozenset[NoticeStatus]] = {
    N.PENDING: frozenset({N.SENT, N.DRAFT}),
    N.DRAFT: frozenset({N.CONFIRMED, N.SUPERSEDED}),
    N.SUPERSEDED: frozenset({N.CONFIRMED}),
    N.SENT: frozenset(),
    N.CONFIRMED: frozenset(),
}

WINDOWS = Machine("a window", WindowState, TRANSITIONS)
ROWS = Machine("an environment's row", RowStatus, ROW_TRANSITIONS)
NOTICES = Machine("a notice", NoticeStatus, NOTICE_TRANSITIONS)

# States in which a window keeps its environments switched off.
HOLDING = frozenset({S.ACTIVE, S.FAILED})
# States from which nothing else can happen.
FINAL = frozenset(state for state, edges in TRANSITIONS.items() if not edges)


class _Window(Protocol):
    state: str


class _Row(Protocol):
    status: str


class _Notice(Protocol):
    status: str


def move_window(window: _Window, target: WindowState) -> None:
    """Move a window to ``target``, or raise IllegalTransition."""
    window.state = WINDOWS.check(window.state, target)


def move_row(row: _Row, target: RowStatus) -> None:
    """Move an environment's row of a window to ``target``, or raise IllegalTransition."""
    row.status = ROWS.check(row.status, target)


def move_notice(notice: _Notice, target: NoticeStatus) -> None:
    """Move a notice to Coursedog support to ``target``, or raise IllegalTransition."""
    notice.status = NOTICES.check(notice.status, target)


def transition(current: WindowState | str, target: WindowState) -> WindowState:
    """Return ``target`` if the window's move is legal, else raise IllegalTransition."""
    return WINDOWS.check(current, target)


def can_transition(current: WindowState | str, target: WindowState) -> bool:
    """Whether ``current -> target`` is a legal move of a window."""
    return WINDOWS.can(current, target)
