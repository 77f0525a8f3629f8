"""A read-only look at one Coursedog school: each read the bot makes, as answered and as read.

What an admin runs first against a real Coursedog: the login, then every read with its status
and time, the fields Coursedog answered beside what the bot makes of them, and whether the bot
understands each answer. Nothing here writes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from coursedog import wire
from coursedog.client import CoursedogClient
from coursedog.errors import ApiError, CoursedogError
from coursedog.models import Answer
from coursedog.wire import WireConfig

HISTORY_SIZE = 3  # merge-history items shown per schedule type
_LEAVES = 20  # fields of an answer shown at most
_VALUE_WIDTH = 60


@dataclass(frozen=True)
class FieldReading:
    """One field of an answer: what Coursedog said and what the bot makes of it."""

    name: str
    answered: str  # the value as JSON, or "(absent)"
    reading: str
    known: bool


@dataclass(frozen=True)
class ReadCheck:
    """One read: its status and time, how the bot reads the answer, or why it cannot."""

    name: str
    method: str
    path: str
    status: int | None  # None: no answer came
    seconds: float
    reading: str | None
    problem: str | None
    fields: tuple[FieldReading, ...] = ()
    other_fields: tuple[str, ...] = ()

    @property
    def understood(self) -> bool:
        """Whether the bot understands the whole answer."""
        return self.problem is None and all(f.known for f in self.fields)


@dataclass(frozen=True)
class LoginCheck:
    """The login: its answer, which password key worked, and the token's life."""

    path: str
    status: int | None
    seconds: float
    password_field: str | None
    configured_field: str
    refused_fields: tuple[tuple[str, int], ...]
    issued_at: datetime | None
    renews_at: datetime | None
    expires_at: datetime | None
    problem: str | None


@dataclass(frozen=True)
class Probe:
    """Everything a check learned of one school."""

    host: str
    school: str
    login: LoginCheck
    reads: tuple[ReadCheck, ...]

    @property
    def understood(self) -> bool:
        """Whether the login worked and every read is understood."""
        return self.login.problem is None and all(r.understood for r in self.reads)


def probe(client: CoursedogClient, *, history_size: int = HISTORY_SIZE) -> Probe:
    """Log in (or reuse the session's login) and make every read the bot makes, once each."""
    login = _login(client)
    reads: tuple[ReadCheck, ...] = ()
    if login.problem is None:
        cfg = client.wire
        reads = (
            _read(client, "read_schedule", cfg.schedule_read_path, None, _schedule(cfg)),
            _read(client, "read_save_state", cfg.save_state_path, None, _save_state),
            *(
                _read(
                    client,
                    f"merge_history {kind}",
                    cfg.merge_history_path,
                    wire.merge_history_params(kind, history_size),
                    _history(kind),
                )
                for kind in wire.SCHEDULE_TYPES
            ),
        )
    return Probe(client.host, client.school, login, reads)


def _login(client: CoursedogClient) -> LoginCheck:
    session = client.session
    started = time.perf_counter()
    try:
        session.token()
    except CoursedogError as exc:
        status = exc.status if isinstance(exc, ApiError) else None
        seconds = time.perf_counter() - started
        configured = session.wire.password_field
        path = session.wire.login_path
        return LoginCheck(path, status, seconds, None, configured, (), None, None, None, str(exc))
    done = session.login
    assert done is not None  # a token comes with its login
    return LoginCheck(
        path=session.wire.login_path,
        status=done.status,
        seconds=done.seconds,
        password_field=done.password_field,
        configured_field=done.configured_field,
        refused_fields=done.refused_fields,
        issued_at=_instant(done.issued_at),
        renews_at=_instant(done.renews_at),
        expires_at=_instant(done.expires_at),
        problem=None,
    )


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# What a read makes of an answer: (reading, problem, fields, other fields).
Reading = tuple[str | None, str | None, tuple[FieldReading, ...], tuple[str, ...]]


def _read(
    client: CoursedogClient,
    name: str,
    path: str,
    params: Mapping[str, str | int] | None,
    read: Callable[[Any], Reading],
) -> ReadCheck:
    started = time.perf_counter()
    try:
        answer: Answer = client.read_answer(path, params)
    except CoursedogError as exc:
        status = exc.status if isinstance(exc, ApiError) else None
        seconds = time.perf_counter() - started
        return ReadCheck(name, "GET", client.path_of(path), status, seconds, None, str(exc))
    seconds = time.perf_counter() - started
    reading, problem, fields, others = read(answer.body)
    return ReadCheck(
        name, "GET", client.path_of(path), answer.status, seconds, reading, problem, fields, others
    )


# --- the schedule ---------------------------------------------------------------------------


def _schedule(cfg: WireConfig) -> Callable[[Any], Reading]:
    def read(body: Any) -> Reading:
        try:
            obj = wire.schedule_object_from_reply(body, cfg)
        except ValueError as exc:
            return None, str(exc), (), ()
        fields = schedule_fields(obj, cfg)
        ours = {f.name for f in fields}
        others = tuple(sorted(k for k in obj if k not in ours))
        try:
            return wire.schedule_from_wire(obj, cfg).describe(), None, fields, others
        except ValueError as exc:
            return None, str(exc), fields, others

    return read


def schedule_fields(obj: Mapping[str, Any], cfg: WireConfig) -> tuple[FieldReading, ...]:
    """Each field of a schedule object the bot reads, beside what it makes of it."""
    known = wire.known_sync_types(cfg)
    name = cfg.sync_type_field
    value = obj.get(name)
    if name not in obj:
        sync = FieldReading(name, "(absent)", "missing: which merges run is unknown", False)
    elif isinstance(value, str) and value.strip().lower() in known:
        reading = known[value.strip().lower()].describe() + _sync_source(value, cfg)
        sync = FieldReading(name, _json(value), reading, True)
    else:
        names = ", ".join(repr(v) for v in known)
        sync = FieldReading(name, _json(value), f"a value the bot does not know ({names})", False)
    flags = [sync]
    for field, label in ((cfg.nightly_field, "nightly"), (cfg.realtime_field, "real-time")):
        if not field:
            continue
        flag = obj.get(field)
        if flag is None:
            answered = "null" if field in obj else "(absent)"
            flags.append(FieldReading(field, answered, f"{name} decides", True))
        elif isinstance(flag, bool):
            flags.append(FieldReading(field, _json(flag), f"{label} {_on(flag)}", True))
        else:
            flags.append(FieldReading(field, _json(flag), "not a boolean", False))
    return tuple(flags)


def _sync_source(value: str, cfg: WireConfig) -> str:
    """Whether a known sync type was configured, or is the default assumed but never seen."""
    for key in ("sync_type_realtime", "sync_type_nightly", "sync_type_off"):
        if getattr(cfg, key).lower() != value.strip().lower():
            continue
        if getattr(cfg, key) != getattr(wire.DEFAULT_WIRE, key):
            return f" (as configured in {key})"
        if wire.FIELD_STATUS[key] == "assumed":
            return f" (an assumed value, {key}: not yet seen from Coursedog)"
    return ""


def _on(flag: bool) -> str:
    return "on" if flag else "off"


# --- the saved state ------------------------------------------------------------------------


def _save_state(body: Any) -> Reading:
    try:
        found = wire.save_state_id_from_wire(body)
    except ValueError as exc:
        return None, str(exc), _leaves(body, None), ()
    reading = f"saved state {found} is enabled" if found else "no saved state is enabled"
    return reading, None, _leaves(body, found), ()


def _leaves(body: Any, found: str | None) -> tuple[FieldReading, ...]:
    """The answer's fields as dotted names, marking the one the bot takes the id from."""
    out: list[FieldReading] = []

    def walk(value: Any, name: str) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(inner, f"{name}.{key}" if name else str(key))
            return
        is_id = found is not None and value == found
        reading = "the enabled saved state's id" if is_id else "not read by the bot"
        out.append(FieldReading(name or "(the answer)", _json(value), reading, True))

    walk(body, "")
    return tuple(out[:_LEAVES])


# --- merge history --------------------------------------------------------------------------


def _history(kind: str) -> Callable[[Any], Reading]:
    def read(body: Any) -> Reading:
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return None, "merge history has no items list", (), ()
        fields = tuple(_item(item, kind, index) for index, item in enumerate(items))
        count = f"{len(items)} item{'s' if len(items) != 1 else ''}"
        return (count if items else "no merges of this type yet"), None, fields, ()

    return read


def _item(item: Any, kind: str, index: int) -> FieldReading:
    name = f"items[{index}]"
    try:
        run = wire.merge_run_from_wire(item, kind, index)
    except ValueError as exc:
        return FieldReading(name, _json(item), str(exc), False)
    if run.running:
        reading = "running"
    else:
        verdict = "succeeded" if run.succeeded else "failed"
        reading = f"{verdict} ({run.status}), report {run.id or '(no id)'}"
    when = f", {run.started_at}" if run.started_at else ""
    return FieldReading(name, _json(item), f"{run.schedule_type} merge {reading}{when}", True)


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"
