"""`sis-maint coursedog verify-writes`: prove an environment's write contract by using it.

A harmless round trip: read the schedule, write the very same value back through the
contract, read again; with ``toggle``, also switch one schedule off and back on, each step
verified by reading. What was proved (when, on which host, which paths, the shape of the
answers) is kept with the contract, whose standing becomes *verified*. Whatever fails along
the way, the schedule read at the start is written back before the error is told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from coursedog.errors import CoursedogError
from coursedog.models import ALL_OFF, Answer, Schedule, ScheduleSnapshot


class VerifyApi(Protocol):
    """What a verification needs of the Coursedog client."""

    @property
    def host(self) -> str: ...

    def read_schedule(self) -> ScheduleSnapshot: ...

    def read_switches(self) -> Schedule: ...

    def write_schedule(
        self, schedule: Schedule, *, over: ScheduleSnapshot | None = None
    ) -> None: ...

    def read_answer(self, template: str) -> Answer: ...


class NotProven(Exception):
    """The contract did not do what it says; ``restored`` tells whether the start's schedule
    is back."""

    def __init__(self, message: str, *, restored: bool) -> None:
        super().__init__(message)
        self.restored = restored


@dataclass
class Proof:
    """What a verification did and saw."""

    host: str
    write: str
    read: str
    steps: list[dict[str, str]] = field(default_factory=list)
    toggled: str | None = None
    answer_keys: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """As the ledger keeps it."""
        return {
            "host": self.host,
            "write": self.write,
            "read": self.read,
            "steps": self.steps,
            "toggled": self.toggled,
            "answer_keys": self.answer_keys,
        }


def toggled(
    schedule: Schedule, writable: Callable[[Schedule], bool] = lambda _s: True
) -> tuple[str, Schedule] | None:
    """What a toggle switches off and the schedule then: real-time alone if that can be
    written, else everything; None when nothing is on (or no such schedule can be written)."""
    options = []
    if schedule.realtime and schedule.nightly:
        options.append(("real-time", Schedule(nightly=True, realtime=False)))
    if not schedule.is_off():
        names = " and ".join(
            n for n, on in (("nightly", schedule.nightly), ("real-time", schedule.realtime)) if on
        )
        options.append((names, ALL_OFF))
    return next((option for option in options if writable(option[1])), None)


def verify(
    client: VerifyApi,
    proof: Proof,
    *,
    toggle: bool,
    writable: Callable[[Schedule], bool] = lambda _s: True,
) -> Proof:
    """Run the round trip (and the toggle) through ``client``; NotProven says what failed.
    ``writable`` tells the schedules the contract can write (a toggle picks one of them)."""
    start = client.read_schedule()
    proof.answer_keys = _keys(client.read_answer(proof.read).body)
    plan = [start.schedule]
    if toggle:
        off = toggled(start.schedule, writable)
        if off is None:
            raise NotProven(
                "nothing is on that can be switched off and back on (the schedule reads "
                f"{start.schedule.describe()}); verify without --toggle, or switch a "
                "schedule on first",
                restored=True,
            )
        proof.toggled = off[0]
        plan = [start.schedule, off[1], start.schedule]
    try:
        for target in plan:
            _write_and_read(client, target, proof)
    except (CoursedogError, NotProven) as exc:
        raise NotProven(str(exc), restored=_put_back(client, start.schedule)) from None
    return proof


def _write_and_read(client: VerifyApi, target: Schedule, proof: Proof) -> None:
    over = client.read_schedule()
    client.write_schedule(target, over=over)
    seen = client.read_switches()
    proof.steps.append({"wrote": target.describe(), "read": seen.describe()})
    if seen != target:
        raise NotProven(
            f"wrote {target.describe()} but Coursedog reads {seen.describe()}", restored=False
        )


def _put_back(client: VerifyApi, start: Schedule) -> bool:
    """Write the start's schedule back after a failure; whether a read shows it back."""
    try:
        if client.read_switches() == start:
            return True
        client.write_schedule(start, over=client.read_schedule())
        return client.read_switches() == start
    except CoursedogError:
        return False


def _keys(body: object) -> list[str]:
    """The shape of an answer: its keys, and those of the objects directly inside it."""
    if not isinstance(body, dict):
        return [type(body).__name__]
    keys = []
    for key, value in sorted(body.items()):
        keys.append(key)
        if isinstance(value, dict):
            keys += [f"{key}.{inner}" for inner in sorted(value)]
    return keys
