"""The series state machine.

```mermaid
stateDiagram-v2
    [*] --> requested
    requested --> approved: approve (a standard change from then on)
    requested --> denied
    requested --> ended: withdrawn by the requester or an approver
    approved --> ended: no new occurrences (a running one keeps its end)
    denied --> [*]
    ended --> [*]
```
"""

from __future__ import annotations

from enum import StrEnum

from bot.errors import IllegalTransition


class SeriesState(StrEnum):
    """Where a series stands."""

    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"
    ENDED = "ended"


_EDGES: dict[SeriesState, frozenset[SeriesState]] = {
    SeriesState.REQUESTED: frozenset({SeriesState.APPROVED, SeriesState.DENIED, SeriesState.ENDED}),
    SeriesState.APPROVED: frozenset({SeriesState.ENDED}),
    SeriesState.DENIED: frozenset(),
    SeriesState.ENDED: frozenset(),
}
# Series whose occurrences may still happen (once approved).
LIVE = frozenset({SeriesState.REQUESTED, SeriesState.APPROVED})


def series_transition(current: SeriesState | str, target: SeriesState) -> SeriesState:
    """Return ``target`` if the edge is legal, else raise IllegalTransition."""
    current = SeriesState(current)
    if target not in _EDGES[current]:
        raise IllegalTransition(f"a series that is {current} cannot become {target}")
    return target
