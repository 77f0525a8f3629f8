"""A ledger with a long past: rows shaped like those a finished window leaves behind.

Filling 100,000 windows through the services would take hours, so the rows are written in
bulk; their states, keys and counts follow what the services write for each kind of ending.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Engine, Table, func, select, text

from bench.databases import gather_statistics
from bot.domain.due_payloads import MergeWatch, Notify, write
from storage.audit_chain import GENESIS, canonical, chain_hash
from storage.models import (
    AuditEvent,
    Baseline,
    CoursedogNotice,
    DueAction,
    RemoteWrite,
    SlackNotice,
    Window,
    WindowEnvironment,
)
from storage.types import UTCDateTime

CHUNK = 2000
SPACING = timedelta(minutes=30)
# How past windows ended, in proportion.
ENDINGS = [("ended", 80), ("denied", 8), ("cancelled", 6), ("expired", 6)]


def _rows(window_id: int, ended_before: datetime, rng: random.Random) -> dict[str, list[Any]]:
    """The rows of one past window."""
    state = rng.choices([s for s, _ in ENDINGS], [w for _, w in ENDINGS])[0]
    pick = rng.random()
    envs = ["prod"] if pick < 0.7 else ["staging"] if pick < 0.9 else ["prod", "staging"]
    asked = ended_before - timedelta(hours=3)
    start, end = asked + timedelta(minutes=5), asked + timedelta(hours=2, minutes=5)
    held = state == "ended"
    out: dict[str, list[Any]] = {name: [] for name in TABLES}
    out["windows"].append(
        {
            "id": window_id, "state": state, "version": 4 if held else 2,
            "requester_id": "U0REQUEST1", "reason": "Banner patch", "ticket": None,
            "requested_at": asked, "starts_at": start if held else None,
            "ends_at": end if held else None, "duration_seconds": 7200,
            "time_zone": "America/New_York", "decided_by": "U0APPROVE1" if held or
            state == "denied" else None, "decided_at": start if held else None,
            "ended_by": "system" if held else None, "ended_at": end if held else None,
            "failure_reason": None, "channel_id": "C0APPROVALS",
            "card_ts": f"{int(asked.timestamp())}.{window_id:06d}",
        }
    )  # fmt: skip
    key = f"{window_id}"
    due = [("expire", f"expire:{key}", asked + timedelta(hours=2), "cancelled" if held else "done")]
    payloads: dict[str, dict[str, Any]] = {}
    audit: list[tuple[str, str | None, datetime]] = [("requested", None, asked)]
    notices = [f"card:{key}"]
    if held:
        stamp = int(end.timestamp())
        due += [
            ("remind_before_end", f"remind_before_end:{key}:{stamp}", end - timedelta(minutes=15),
             "done"),
            ("end", f"end:{key}:{stamp}", end, "done"),
            ("notify_coursedog", f"notice:{key}:approved", start, "done"),
            ("watch_merge", f"watch_merge:{key}:{envs[0]}:{stamp}:1", end + timedelta(minutes=15),
             "done"),
        ]  # fmt: skip
        payloads = {
            "notify_coursedog": write(Notify(f"notice:{key}:approved")),
            "watch_merge": write(MergeWatch(window_id, envs[0], end, 1)),
        }
        audit += [("approved", None, start), ("ended", None, end)]
        notices += [f"approved:{key}", f"ended:{key}", f"remind_before_end:{key}:{stamp}"]
        out["coursedog_notices"].append(
            {"window_id": window_id, "event": "approved", "environment": None,
             "dedup_key": f"notice:{key}:approved", "message_id": f"<mw{key}@example.edu>",
             "recipient": None, "subject": "SIS maintenance", "body": "…", "status": "draft",
             "error": None, "created_at": start, "sent_at": None, "confirmed_by": None,
             "confirmed_at": None}
        )  # fmt: skip
    else:
        audit.append((state, None, asked + timedelta(minutes=30)))
    for i, env in enumerate(envs):
        out["window_environments"].append(
            {"window_id": window_id, "environment": env, "position": i,
             "status": "restored" if held else "released", "detail": None}
        )  # fmt: skip
        if not held:
            continue
        audit += [
            ("baseline_recorded", env, start), ("schedule_written", env, start),
            ("baseline_restored", env, end), ("schedule_written", env, end),
        ]  # fmt: skip
        notices += [f"off:{key}:{env}", f"restored:{key}:{env}"]
        out["baselines"].append(
            {"environment": env, "nightly": True, "realtime": True, "save_state_id": "ss-1",
             "save_state_decision": None, "save_state_decided_by": None, "captured_at": start,
             "window_id": window_id, "released_at": end}
        )  # fmt: skip
        for op, at, desired in (
            ("write_schedule", start, {"nightly": False, "realtime": False}),
            ("activity_comment", start, {"phase": "off"}),
            ("write_schedule", end, {"nightly": True, "realtime": True}),
            ("activity_comment", end, {"phase": "restored"}),
        ):
            out["remote_writes"].append(
                {"environment": env, "operation": op, "window_id": window_id, "before": None,
                 "desired": desired, "status": "applied", "started_at": at, "finished_at": at,
                 "error": None}
            )  # fmt: skip
    for kind, dedup, at, status in due:
        out["due_actions"].append(
            {"kind": kind, "window_id": window_id, "environment": None, "due_at": at,
             "status": status, "attempts": 1 if status == "done" else 0, "lease_owner": None,
             "lease_until": None, "lease_epoch": 1 if status == "done" else 0,
             "last_error": None, "dedup_key": dedup, "created_at": asked, "done_at": at,
             "payload": payloads.get(kind, {})}
        )  # fmt: skip
    for action, where, at in audit:
        out["audit_events"].append(
            {"at": at, "actor": "system", "action": action, "window_id": window_id,
             "environment": where, "detail": "", "data": {}}
        )  # fmt: skip
    for dedup in notices:
        out["slack_notices"].append(
            {"dedup_key": dedup, "channel": "C0APPROVALS", "thread_ts": None,
             "ts": "1.000001", "created_at": asked}
        )  # fmt: skip
    return out


TABLES: dict[str, Table] = {
    model.__tablename__: model.__table__  # type: ignore[misc]
    for model in (
        Window, WindowEnvironment, DueAction, AuditEvent, Baseline, RemoteWrite, SlackNotice,
        CoursedogNotice,
    )
}  # fmt: skip


def _chunks(count: int, now: datetime, seed: int) -> Iterator[dict[str, list[Any]]]:
    rng = random.Random(seed)
    first = now - SPACING * (count + 1)
    for low in range(0, count, CHUNK):
        merged: dict[str, list[Any]] = {name: [] for name in TABLES}
        for window_id in range(low + 1, min(count, low + CHUNK) + 1):
            for name, rows in _rows(window_id, first + SPACING * window_id, rng).items():
                merged[name].extend(rows)
        yield merged


@lru_cache(maxsize=256)
def _sqlite_time(value: datetime) -> str:
    # SQLite keeps naive UTC text, in the form storage.types.UTCDateTime writes.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _converters(table: Table, columns: list[str], sqlite: bool) -> list[Callable[[Any], Any]]:
    """Per column: how a value goes to the driver, as the ledger's column types store it."""

    def keep(value: Any) -> Any:
        return value

    def as_json(value: Any) -> Any:
        return None if value is None else json.dumps(value)

    def as_time(value: Any) -> Any:
        return None if value is None else _sqlite_time(value)

    out: list[Callable[[Any], Any]] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            out.append(as_json)
        elif isinstance(kind, UTCDateTime) and sqlite:
            out.append(as_time)
        else:
            out.append(keep)  # psycopg takes aware datetimes as they are
    return out


def _write(engine: Engine, chunk: dict[str, list[Any]]) -> None:
    """Write one chunk straight through the driver (COPY on PostgreSQL): types done above."""
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        for name, given in chunk.items():
            if not given:
                continue
            rows = given
            if name == "audit_events":
                cursor.execute("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")
                head = cursor.fetchone()
                rows = _chained(given, *(head or (0, GENESIS)))
            columns = list(rows[0])
            convert = list(zip(columns, _converters(TABLES[name], columns, sqlite), strict=True))
            values = [tuple(to(row[c]) for c, to in convert) for row in rows]
            if sqlite:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    values,
                )
            else:
                with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
        if sqlite:
            cursor.execute("COMMIT")
        else:
            raw.commit()
    finally:
        raw.close()


def _chained(rows: list[dict[str, Any]], last_id: int, prev: str) -> list[dict[str, Any]]:
    """Audit events with their ids and hash chain, continuing from the head of the trail."""
    chained = []
    for offset, row in enumerate(rows, start=1):
        content = canonical(id=last_id + offset, **row)
        digest = chain_hash(content, prev)
        chained.append({**row, "id": last_id + offset, "prev_hash": prev, "hash": digest})
        prev = digest
    return chained


def fill(engine: Engine, count: int, *, seed: int = 8) -> dict[str, int]:
    """Write ``count`` finished windows (ids 1..count) with their rows; the row counts."""
    now = datetime.now(UTC)
    for chunk in _chunks(count, now, seed):
        _write(engine, chunk)
    counts = {}
    with engine.begin() as conn:
        for name, table in TABLES.items():
            counts[name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            if engine.dialect.name == "postgresql" and "id" in table.c:
                # Rows came with their ids: move the sequence past them.
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                        f"(SELECT coalesce(max(id), 1) FROM {name}))"
                    )
                )
    gather_statistics(engine, TABLES)
    return counts
