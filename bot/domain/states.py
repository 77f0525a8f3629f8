"""The window state machine: the one place that knows which state changes are legal.

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
"""

from __future__ import annotations

from enum import StrEnum

from bot.errors import IllegalTransition


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


S = WindowState

_EDGES: dict[WindowState, frozenset[WindowState]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.ACTIVE, S.DENIED, S.CANCELLED, S.EXPIRED}),
    S.APPROVED: frozenset({S.ACTIVE, S.CANCELLED, S.EXPIRED}),
    S.ACTIVE: frozenset({S.ENDED, S.FAILED}),
    S.FAILED: frozenset({S.ACTIVE, S.ENDED}),
    S.ENDED: frozenset(),
    S.DENIED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}

# States in which a window keeps its environments switched off.
HOLDING = frozenset({S.ACTIVE, S.FAILED})
# States from which nothing else can happen.
FINAL = frozenset(state for state, edges in _EDGES.items() if not edges)


def transition(current: WindowState | str, target: WindowState) -> WindowState:
    """Return ``target`` if the edge is legal, else raise IllegalTransition."""
    current = WindowState(current)
    if target not in _EDGES[current]:
        raise IllegalTransition(f"a window that is {current} cannot become {target}")
    return target


def can_transition(current: WindowState | str, target: WindowState) -> bool:
    """Whether ``current -> target`` is a legal edge."""
    return target in _EDGES[WindowState(current)]
