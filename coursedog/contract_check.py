"""Checking a write contract read from JSON: every part, named when it is wrong."""

from __future__ import annotations

from typing import Any

from coursedog import pointer
from coursedog.contract import (
    CONTRACT_VERSION,
    CommentWrite,
    ContractError,
    ScheduleWrite,
    SwitchField,
    WriteContract,
    canonical,
)
from coursedog.models import ALL_OFF, Schedule
from coursedog.wire import WRITE_METHODS


def read_contract(obj: Any) -> WriteContract:
    """Read and check a contract's JSON form; ContractError names the first part that is wrong."""
    top = _Obj(obj, "", {"version", "schedule", "comment"})
    if top.get("version") != CONTRACT_VERSION:
        raise ContractError(f"version must be {CONTRACT_VERSION}, not {top.get('version')!r}")
    schedule = _schedule(_Obj(top.get("schedule"), "schedule", _SCHEDULE_KEYS))
    raw_comment = top.get("comment", None)
    comment = None if raw_comment is None else _comment(raw_comment)
    return WriteContract(schedule, comment)


_SCHEDULE_KEYS = {"method", "path", "base", "wrap", "fields"}


class _Obj:
    """A JSON object being checked, and where it is (for messages)."""

    def __init__(self, value: Any, where: str, keys: set[str]) -> None:
        if not isinstance(value, dict):
            raise ContractError(f"{where or 'the contract'} must be an object")
        unknown = sorted(set(value) - keys)
        if unknown:
            raise ContractError(f"{where or 'the contract'} has an unknown key {unknown[0]!r}")
        self.value, self.where = value, where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, *default: Any) -> Any:
        if key not in self.value and default:
            return default[0]
        if key not in self.value:
            raise ContractError(f"{self.at(key)} is missing")
        return self.value[key]

    def method(self) -> str:
        method = self.get("method")
        if method not in WRITE_METHODS:
            raise ContractError(f"{self.at('method')} must be one of POST, PUT, PATCH")
        return str(method)

    def path(self, key: str = "path") -> str:
        return _path(self.get(key), self.at(key))

    def pointer(self, key: str) -> str:
        return _pointer(self.get(key), self.at(key))


def _path(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ContractError(f"{where} must be a path starting with '/'")
    if "{school}" not in value:
        raise ContractError(f"{where} must contain {{school}}")
    try:
        value.format(school="s")
    except (KeyError, IndexError, ValueError):
        raise ContractError(f"{where} may hold no placeholder but {{school}}") from None
    return value


def _pointer(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ContractError(f"{where} must be a JSON pointer string")
    try:
        pointer.parts(value)
    except ValueError as exc:
        raise ContractError(f"{where}: {exc}") from None
    return value


def _schedule(obj: _Obj) -> ScheduleWrite:
    raw_base = obj.get("base")
    wrap = obj.pointer("wrap")
    if raw_base is None:  # the switch fields alone
        if wrap != pointer.ROOT:
            raise ContractError("schedule.wrap must be empty when schedule.base is null")
        base_path, base_pointer = None, pointer.ROOT
    else:
        base = _Obj(raw_base, "schedule.base", {"path", "pointer"})
        base_path, base_pointer = base.path(), base.pointer("pointer")
    raw_fields = obj.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise ContractError("schedule.fields must be a non-empty list")
    fields = tuple(_field(raw, f"schedule.fields[{i}]", wrap) for i, raw in enumerate(raw_fields))
    write = ScheduleWrite(
        method=obj.method(),
        path=obj.path(),
        base_path=base_path,
        base_pointer=base_pointer,
        wrap=wrap,
        fields=fields,
    )
    _check_states(write)
    return write


def _field(raw: Any, where: str, wrap: str) -> SwitchField:
    obj = _Obj(raw, where, {"pointer", "values"})
    at = obj.pointer("pointer")
    if at == wrap or not pointer.within(at, wrap):
        raise ContractError(f"{where}.pointer {at!r} must be inside the base at {wrap!r}")
    raw_values = obj.get("values")
    if not isinstance(raw_values, list) or not raw_values:
        raise ContractError(f"{where}.values must be a non-empty list")
    values: list[tuple[Schedule, Any]] = []
    for i, item in enumerate(raw_values):
        entry = _Obj(item, f"{where}.values[{i}]", {"nightly", "realtime", "value"})
        flags = [entry.get(k) for k in ("nightly", "realtime")]
        if not all(isinstance(flag, bool) for flag in flags):
            raise ContractError(f"{where}.values[{i}]: nightly and realtime must be true or false")
        state = Schedule(nightly=flags[0], realtime=flags[1])
        if any(state == seen for seen, _ in values):
            raise ContractError(f"{where}.values: {state.describe()} appears twice")
        values.append((state, entry.get("value")))
    return SwitchField(at, tuple(values))


def _check_states(write: ScheduleWrite) -> None:
    states = set(write.states())
    for i, f in enumerate(write.fields):
        if {state for state, _ in f.values} != states:
            raise ContractError(
                f"schedule.fields[{i}] has values for other schedules than schedule.fields[0]"
            )
    if len(states) < 2 or ALL_OFF not in states:
        raise ContractError(
            "schedule.fields must give values for both switches off and for at least one "
            "schedule with a switch on"
        )
    seen: dict[str, Schedule] = {}
    for state in write.states():
        key = canonical([f.value_for(state) for f in write.fields])
        if key in seen:
            raise ContractError(
                f"schedule.fields give the same values for {seen[key].describe()} and "
                f"{state.describe()}"
            )
        seen[key] = state


def _comment(raw: Any) -> CommentWrite:
    obj = _Obj(raw, "comment", {"method", "path", "text", "constants"})
    text = obj.pointer("text")
    if text == pointer.ROOT:
        raise ContractError("comment.text must point inside the body, not at its top level")
    constants = obj.get("constants", {})
    if not isinstance(constants, dict):
        raise ContractError("comment.constants must be an object of pointer: value")
    for at in constants:
        _pointer(at, f"comment.constants key {at!r}")
        others = [text, *(key for key in constants if key != at)]
        if at == pointer.ROOT or any(_overlap(at, other) for other in others):
            raise ContractError(f"comment.constants key {at!r} overlaps another field")
    return CommentWrite(obj.method(), obj.path(), text, tuple(constants.items()))


def _overlap(a: str, b: str) -> bool:
    """Whether two pointers name the same place, or one a place inside the other."""
    return pointer.within(a, b) or pointer.within(b, a)
