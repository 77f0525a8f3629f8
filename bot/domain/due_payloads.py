"""What a due action carries besides its window: a typed payload per kind, kept as JSON.

The ledger keeps each payload in ``due_actions.payload`` (an object); handlers read it with
``read`` and never parse the dedup key, which stays the action's uniqueness key only. The
kinds that act on their window as it stands (expire, start, end and their reminders) carry
an empty payload. A payload that does not read as its type is a ``BadPayload``, which the
scheduler records as the action's failure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar


class BadPayload(ValueError):
    """A due action's payload is not what its kind carries."""


@dataclass(frozen=True)
class Nag:
    """The ``number``-th "time to re-enable" notice for a window's current end."""

    number: int


@dataclass(frozen=True)
class MergeWatch:
    """Which restore a merge-watch action looks after, and which look this is."""

    window_id: int
    environment: str
    restored_at: datetime
    number: int


@dataclass(frozen=True)
class RunningMergeWatch:
    """A merge found running at a window's start: its kind and job id (``-``: none given),
    when it was found, and which look this is."""

    window_id: int
    environment: str
    schedule_type: str
    job_id: str
    found_at: datetime
    number: int


@dataclass(frozen=True)
class Materialise:
    """The series whose occurrences a ``materialise_series`` action creates."""

    series_id: int


@dataclass(frozen=True)
class Notify:
    """The notice to Coursedog support a ``notify_coursedog`` action sends (its dedup key)."""

    notice_key: str


class Payload(Protocol):
    """Any of the payloads above (a frozen dataclass)."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]


P = TypeVar("P", bound=Payload)
# How each field type is kept in JSON and read back (None: it does not read), and its name.
_READERS: dict[str, Any] = {
    "int": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None,
    "str": lambda v: v if isinstance(v, str) and v else None,
    "datetime": lambda v: _aware(v) if isinstance(v, str) else None,
}
_NAMES = {"int": "a whole number", "str": "a text", "datetime": "an ISO 8601 time with its offset"}


def _aware(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def write(payload: Payload) -> dict[str, Any]:
    """The payload as the ledger keeps it (times as ISO 8601 with their offset)."""
    return {
        f.name: value.isoformat() if isinstance(value, datetime) else value
        for f in dataclasses.fields(payload)
        for value in (getattr(payload, f.name),)
    }


def read(kind: type[P], data: Any) -> P:
    """The payload ``data`` holds, as ``kind``; BadPayload when it does not hold one."""
    if not isinstance(data, Mapping):
        raise BadPayload(f"a {kind.__name__} payload is an object, not {type(data).__name__}")
    fields = {f.name: str(f.type) for f in dataclasses.fields(kind)}
    if set(data) != set(fields):
        raise BadPayload(f"a {kind.__name__} payload has {sorted(fields)}, not {sorted(data)}")
    values = {}
    for name, type_name in fields.items():
        value = _READERS[type_name](data[name])
        if value is None:
            raise BadPayload(f"{kind.__name__}.{name} is not {_NAMES[type_name]}: {data[name]!r}")
        values[name] = value
    return kind(**values)
