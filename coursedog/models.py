"""Typed values the Coursedog client hands to its callers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


class Switches(Protocol):
    """Anything that carries the two switches: a ledger row (a baseline, an observation)."""

    @property
    def nightly(self) -> bool: ...

    @property
    def realtime(self) -> bool: ...


@dataclass(frozen=True)
class Schedule:
    """The two merge schedule switches of one Coursedog instance."""

    nightly: bool
    realtime: bool

    ALL_OFF: ClassVar[Schedule]

    def describe(self) -> str:
        """Return a short human form such as "nightly on, real-time off"."""
        return f"nightly {_on_off(self.nightly)}, real-time {_on_off(self.realtime)}"

    def is_off(self) -> bool:
        """Return True when neither schedule would start a merge."""
        return not self.nightly and not self.realtime

    def to_dict(self) -> dict[str, bool]:
        """The two switches as a JSON-ready mapping, as the ledger keeps them."""
        return {"nightly": self.nightly, "realtime": self.realtime}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        """The schedule ``to_dict`` made."""
        return cls(nightly=bool(data["nightly"]), realtime=bool(data["realtime"]))

    @classmethod
    def of(cls, switches: Switches) -> Schedule:
        """The schedule a row that keeps the two switches records."""
        return cls(nightly=switches.nightly, realtime=switches.realtime)


Schedule.ALL_OFF = Schedule(nightly=False, realtime=False)
ALL_OFF = Schedule.ALL_OFF


@dataclass(frozen=True)
class ScheduleSnapshot:
    """A schedule as read, with the saved state that was enabled at that moment.

    ``schedule_object`` is the schedule object exactly as Coursedog answered it, so that a
    write can carry its other fields over without reading it again (None when not read).
    """

    schedule: Schedule
    save_state_id: str | None
    schedule_object: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class MergeRun:
    """One entry of the merge history, newest first in the lists the client returns."""

    id: str | None
    schedule_type: str
    status: str
    succeeded: bool | None
    started_at: str | None = None
    # A merge still running: its AWS job's id, name and status (SUBMITTED, RUNNABLE,
    # STARTING, RUNNING), as the history's ``inProgressMerge`` names them.
    job_id: str | None = None
    job_name: str | None = None
    job_status: str | None = None

    @property
    def running(self) -> bool:
        """Return True while the merge has not finished."""
        return self.succeeded is None


@dataclass(frozen=True)
class Answer:
    """A successful answer as it came: its status and its decoded JSON body (None if empty)."""

    status: int
    body: Any
