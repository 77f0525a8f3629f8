"""What people had before a window: the schedule found at its start, judged against reads.

The runbook tells people to switch merges off before an outage, so some do it by hand before
a window begins. The schedule read at the start then has fewer switches on than people had,
and restoring "what was found" would leave merges off. The bot reads idle environments (the
watchdog, the look at approval and before the start) and keeps what it saw
(storage.observations); at the start it compares:

- found has no fewer switches on than the last read: what was found is what people had;
- fewer, and the reads since the window's approval saw more switches on and show the schedule
  changed at most once: what was last seen with more on is what people had (switched off early
  by hand), restored at the end;
- fewer, but no read since the approval saw more on, or the schedule changed more than once
  since: too weak to act on; a person chooses between what was seen and what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coursedog.models import Schedule
from storage.models import ScheduleObservation

# Reads this far back are enough: beyond two changes since approval the bot asks anyway.
RUNS = 8


@dataclass(frozen=True)
class Evidence:
    """The schedule found at a window's start against the one last seen before it."""

    found: Schedule
    observed: Schedule
    observed_at: datetime
    # Changes seen since the approval; None when nothing was read since then.
    changes: int | None

    @property
    def ask(self) -> bool:
        """Whether the evidence is too weak to act on (a person chooses)."""
        return self.changes is None or self.changes > 1

    @property
    def restore(self) -> Schedule:
        """What restoring brings back, unless and until a person chooses otherwise."""
        return self.found if self.ask else self.observed

    def why_unsure(self) -> str:
        """Why the bot asks, in a few words."""
        if self.changes is None:
            return "the bot has not seen them so since the window was approved"
        return f"the schedule changed {self.changes} times since the window was approved"

    def to_data(self) -> dict[str, Any]:
        """JSON-ready, as the baseline keeps it."""
        return {
            "found": self.found.to_dict(),
            "observed": self.observed.to_dict(),
            "observed_at": self.observed_at.isoformat(),
            "changes": self.changes,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Evidence:
        """The evidence ``to_data`` kept."""
        return cls(
            found=Schedule.from_dict(data["found"]),
            observed=Schedule.from_dict(data["observed"]),
            observed_at=datetime.fromisoformat(data["observed_at"]),
            changes=data["changes"],
        )


def fewer_on(found: Schedule, seen: Schedule) -> bool:
    """Whether every switch on in ``found`` was on in ``seen``, and ``seen`` had more on."""
    found_on = {name for name, on in found.to_dict().items() if on}
    seen_on = {name for name, on in seen.to_dict().items() if on}
    return found_on < seen_on


def judge(found: Schedule, runs: Sequence[ScheduleObservation], since: datetime) -> Evidence | None:
    """Judge the schedule found at a window's start against ``runs`` (newest first) of reads
    of the idle environment; ``since`` is the window's approval. None when what was found
    needs no explaining: no read ever saw more switches on."""
    seen = next((run for run in runs if fewer_on(found, Schedule.of(run))), None)
    if seen is None:
        return None
    recent = [run for run in runs if run.last_seen_at >= since]
    return Evidence(
        found=found,
        observed=Schedule.of(seen),
        observed_at=seen.last_seen_at,
        changes=len(recent) - 1 if seen.last_seen_at >= since else None,
    )
