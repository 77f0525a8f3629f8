"""Faults the Coursedog simulator can be told to inject, one request at a time."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

FaultKind = Literal["status", "timeout_after_apply", "drop_before_apply", "delay", "apply_late"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "status",
    "timeout_after_apply",
    "drop_before_apply",
    "delay",
    "apply_late",
)


@dataclass(frozen=True)
class Fault:
    """What goes wrong, for which requests, and how many times.

    status: answer `status` (with `retry_after` as the Retry-After header, and `body`)
        instead of handling the request.
    timeout_after_apply: handle the request, then hold the connection without answering
        for `hold` seconds (None: until the simulator stops) and close it.
    drop_before_apply: close the connection without handling or answering the request.
    delay: wait `delay` extra seconds, then handle the request normally.
    apply_late: hold the request without handling it for `hold` seconds (None: until
        `Simulator.release_late()` or the simulator stops), then handle it and answer (the
        client has most likely given up by then): a request that reaches Coursedog late.
    """

    kind: FaultKind
    method: str = "*"
    path_contains: str = ""
    times: int | None = 1
    status: int = 500
    retry_after: str | None = None
    body: dict[str, Any] | str | None = None
    hold: float | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or null for every request")
        if not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.delay < 0 or (self.hold is not None and self.hold < 0):
            raise ValueError("delay and hold must not be negative")

    def matches(self, method: str, path: str) -> bool:
        """Return True if this fault applies to the request."""
        return self.method.upper() in ("*", method.upper()) and self.path_contains in path

    @classmethod
    def from_json(cls, obj: object) -> Fault:
        """Build a fault from a JSON object as posted to /_sim/faults."""
        if not isinstance(obj, dict):
            raise ValueError("a fault must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
        try:
            fault = cls(**obj)
        except TypeError as exc:
            raise ValueError(f"bad fault: {exc}") from exc
        _check_types(fault)
        return fault


def _check_types(fault: Fault) -> None:
    checks: list[tuple[str, object, tuple[type, ...]]] = [
        ("method", fault.method, (str,)),
        ("path_contains", fault.path_contains, (str,)),
        ("times", fault.times, (int, type(None))),
        ("status", fault.status, (int,)),
        ("retry_after", fault.retry_after, (str, type(None))),
        ("body", fault.body, (dict, str, type(None))),
        ("hold", fault.hold, (int, float, type(None))),
        ("delay", fault.delay, (int, float)),
    ]
    for name, value, types in checks:
        if isinstance(value, bool) or not isinstance(value, types):
            raise ValueError(f"fault field {name} has the wrong type")


class FaultBook:
    """The active faults, used up in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[list[Any]] = []  # [fault, remaining or None]

    def add(self, fault: Fault) -> None:
        """Add a fault after the existing ones."""
        with self._lock:
            self._entries.append([fault, fault.times])

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._entries.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first fault matching the request and count one use of it."""
        with self._lock:
            for entry in self._entries:
                fault: Fault = entry[0]
                if not fault.matches(method, path):
                    continue
                if entry[1] is not None:
                    entry[1] -= 1
                    if entry[1] == 0:
                        self._entries.remove(entry)
                return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        """List the active faults with how many uses remain."""
        with self._lock:
            return [{**asdict(fault), "remaining": left} for fault, left in self._entries]
