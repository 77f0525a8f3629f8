"""A write contract: how one Coursedog instance's own pages write the schedule and the Activity
comment, as learned from a recording of them (coursedog.learn), in a form the client follows.

The schedule write is rebuilt from a fresh read every time: the body is the answer of the
contract's base GET (at ``base_pointer``), placed at ``wrap`` in the body, with each switch
field set to the value the recording showed for the schedule wanted. A page that sends only
the switch fields has no base GET (``base_path`` None): its body is those fields alone.
Nothing but the switch values comes from the recording, so no stale setting can be written
back. A schedule the recording never showed has no body, and is refused rather than guessed.

Stored as JSON (``to_json`` / ``from_json``); ``from_json`` checks everything and names the
first part that is wrong (``ContractError``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coursedog import pointer
from coursedog.models import Schedule
from coursedog.wire import WireConfig

CONTRACT_VERSION = 1


class ContractError(ValueError):
    """A write contract that cannot be followed; the message names the part that is wrong."""


def same_value(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, and ``1`` is not ``1.0``."""
    return canonical(a) == canonical(b)


def canonical(value: Any) -> str:
    """A JSON value as one comparable string."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def all_states() -> tuple[Schedule, ...]:
    """The four schedules the two switches can make, both on first."""
    return tuple(Schedule(nightly=n, realtime=r) for n in (True, False) for r in (True, False))


@dataclass(frozen=True)
class SwitchField:
    """One place in the schedule write's body that carries the switches, and its values."""

    pointer: str  # into the body
    values: tuple[tuple[Schedule, Any], ...]  # (schedule, the value sent for it)

    def value_for(self, schedule: Schedule) -> Any:
        """The value this field takes for ``schedule``; KeyError when never seen."""
        for state, value in self.values:
            if state == schedule:
                return copy.deepcopy(value)
        raise KeyError(schedule)


@dataclass(frozen=True)
class ScheduleWrite:
    """The schedule write: where it goes, what its body is built from, and the switch fields."""

    method: str
    path: str  # with {school}
    base_path: str | None  # the GET whose answer the body is built from (None: nothing read)
    base_pointer: str  # where in that answer the base object is
    wrap: str  # where in the body the base object goes ("" = the body is the base)
    fields: tuple[SwitchField, ...]

    @property
    def label(self) -> str:
        """E.g. "PUT /api/v1/{school}/general/integrationSchedule"."""
        return f"{self.method} {self.path}"

    def states(self) -> tuple[Schedule, ...]:
        """The schedules this contract can write, in the order the recording showed them."""
        return tuple(state for state, _ in self.fields[0].values)

    def knows(self, schedule: Schedule) -> bool:
        """Whether the recording showed a body for ``schedule``."""
        return schedule in self.states()

    def reuses_schedule_read(self, cfg: WireConfig) -> bool:
        """Whether the base is the schedule read's object, so a snapshot just read serves."""
        return self.base_path == cfg.schedule_read_path and self.base_pointer == pointer.join(
            [cfg.schedule_key]
        )

    @property
    def reads_base(self) -> bool:
        """Whether the body is built over an object read first (else: the switch fields alone)."""
        return self.base_path is not None

    def base_of(self, answer: Any) -> dict[str, Any]:
        """The base object inside an answer of the base GET; ValueError if there is none."""
        try:
            base = pointer.get(answer, self.base_pointer)
        except KeyError:
            base = None
        if not isinstance(base, dict):
            where = self.base_pointer or "the top level"
            raise ValueError(f"the answer has no object at {where}")
        return base

    def body(self, base: Mapping[str, Any], schedule: Schedule) -> dict[str, Any]:
        """The body that writes ``schedule`` over ``base``; KeyError for a schedule not seen."""
        values = [(f.pointer, f.value_for(schedule)) for f in self.fields]
        doc = pointer.nest(copy.deepcopy(dict(base)), self.wrap)
        for where, value in values:
            pointer.put(doc, where, value)
        return dict(doc)

    def schedule_of(self, body: Any) -> Schedule:
        """The schedule a body writes; ValueError naming what does not match the contract."""
        try:
            base = pointer.get(body, self.wrap)
        except KeyError:
            base = None
        if not isinstance(base, dict):
            raise ValueError(f"the body has no object at {self.wrap or 'the top level'}")
        if not same_value(pointer.nest(base, self.wrap), body):
            raise ValueError(f"the body carries fields outside {self.wrap}")
        extra = sorted(set(pointer.leaves(body)) - {f.pointer for f in self.fields})
        if not self.reads_base and extra:
            raise ValueError(f"the body must carry the switch fields alone, not {extra[0]}")
        for state in self.states():
            if all(
                pointer.has(body, f.pointer)
                and same_value(pointer.get(body, f.pointer), f.value_for(state))
                for f in self.fields
            ):
                return state
        sent = {
            f.pointer: pointer.get(body, f.pointer)
            for f in self.fields
            if pointer.has(body, f.pointer)
        }
        raise ValueError(f"the switch fields {canonical(sent)} match no schedule of the contract")


@dataclass(frozen=True)
class CommentWrite:
    """The Activity comment: where it goes, where its text is, and what else it always sends."""

    method: str
    path: str  # with {school}
    text_pointer: str
    constants: tuple[tuple[str, Any], ...] = ()  # (pointer, value) sent with every comment

    @property
    def label(self) -> str:
        """E.g. "POST /api/v1/{school}/integration/mergeSettings/activity"."""
        return f"{self.method} {self.path}"

    def body(self, text: str) -> dict[str, Any]:
        """The body that posts ``text``."""
        doc: dict[str, Any] = {}
        for where, value in self.constants:
            pointer.put(doc, where, copy.deepcopy(value))
        pointer.put(doc, self.text_pointer, text)
        return doc

    def text_of(self, body: Any) -> str:
        """The text a body posts; ValueError naming what does not match the contract."""
        text = (
            pointer.get(body, self.text_pointer) if pointer.has(body, self.text_pointer) else None
        )
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{self.text_pointer} must be a non-empty string")
        if not same_value(self.body(text), body):
            raise ValueError(f"the body must be {canonical(self.body('...'))}")
        return text


@dataclass(frozen=True)
class WriteContract:
    """How one environment's writes are made, as learned from a recording."""

    schedule: ScheduleWrite
    comment: CommentWrite | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form ``from_json`` reads."""
        s = self.schedule
        out: dict[str, Any] = {
            "version": CONTRACT_VERSION,
            "schedule": {
                "method": s.method,
                "path": s.path,
                "base": (
                    None
                    if s.base_path is None
                    else {"path": s.base_path, "pointer": s.base_pointer}
                ),
                "wrap": s.wrap,
                "fields": [
                    {
                        "pointer": f.pointer,
                        "values": [{**state.to_dict(), "value": v} for state, v in f.values],
                    }
                    for f in s.fields
                ],
            },
            "comment": None,
        }
        if self.comment is not None:
            c = self.comment
            out["comment"] = {
                "method": c.method,
                "path": c.path,
                "text": c.text_pointer,
                "constants": dict(c.constants),
            }
        return out

    @classmethod
    def from_json(cls, obj: Any) -> WriteContract:
        """Read and check a contract; ContractError names the first part that is wrong."""
        from coursedog.contract_check import read_contract  # noqa: PLC0415 - it imports this

        return read_contract(obj)
