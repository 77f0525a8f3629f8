"""The audit trail as a hash chain: appending under one lock, and verifying the chain.

Each event stores ``prev_hash`` (the hash of the event before it, or ``GENESIS`` for the
first) and ``hash`` = SHA-256 over the canonical serialisation of its own content followed by
``prev_hash``. Changing, removing or reordering any event breaks the chain at that event.

Events are staged in the session and appended when the transaction commits (or when
``append_staged`` is called), as its last step: everything else in the transaction is
flushed first, then the windows the events refer to are locked (``FOR KEY SHARE``, what the
foreign key check would take anyway; not those the transaction holds already, see ``holds``),
then the chain lock is taken (a transaction-scoped advisory lock on PostgreSQL; on SQLite the
immediate write transaction already serialises writers), the head is read and the events are
inserted. Holding the chain lock, a transaction therefore waits for nothing else, so appending
cannot deadlock with row locks taken elsewhere, and two replicas appending at once cannot fork
the chain. A unique ``prev_hash`` makes a fork impossible in the database too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol, cast

from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from storage import unit
from storage.models import AuditEvent, Window, row_values

GENESIS = "0" * 64
_INSERT = insert(cast(Table, AuditEvent.__table__))
_HEAD = select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
_STAGED = unit.transaction_key("audit_staged")  # dropped with a rolled-back transaction
_HELD = unit.transaction_key("audit_windows_held")  # see holds()
# One lock per audit_events table (its oid), so separate schemas do not wait on each other.
_PG_CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(CAST('audit_events'::regclass AS oid)::bigint)")
# The chain's head and the ids of the n events that follow it, in one round trip (ascending).
_PG_HEAD_AND_IDS = text(
    "SELECT (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1) AS hash, "
    "nextval(pg_get_serial_sequence('audit_events', 'id')) AS id "
    "FROM generate_series(1, :n) ORDER BY 2"
)


def canonical(
    *,
    id: int,
    at: Any,
    actor: str,
    action: str,
    window_id: int | None,
    environment: str | None,
    detail: str,
    data: Any,
) -> bytes:
    """The bytes an event's hash covers (besides prev_hash): sorted-key compact JSON."""
    instant = at.astimezone(UTC) if getattr(at, "tzinfo", None) is not None else at
    document = {
        "id": id,
        "at": instant.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "window_id": window_id,
        "environment": environment,
        "detail": detail,
        "data": data,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(content: bytes, prev_hash: str) -> str:
    """SHA-256 over the content followed by the previous event's hash, as hex."""
    return hashlib.sha256(content + prev_hash.encode("ascii")).hexdigest()


class EventContent(Protocol):
    """What an event's hash covers: an AuditEvent, or a row read from its table."""

    @property
    def id(self) -> int: ...
    @property
    def at(self) -> Any: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def window_id(self) -> int | None: ...
    @property
    def environment(self) -> str | None: ...
    @property
    def detail(self) -> str: ...
    @property
    def data(self) -> Any: ...


def event_hash(row: EventContent, prev_hash: str) -> str:
    """The hash ``row`` must carry if it follows an event whose hash is ``prev_hash``."""
    content = canonical(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        window_id=row.window_id,
        environment=row.environment,
        detail=row.detail,
        data=row.data,
    )
    return chain_hash(content, prev_hash)


def stage(session: Session, row: AuditEvent) -> None:
    """Queue ``row`` to be appended when the session's transaction commits."""
    session.info.setdefault(_STAGED, []).append(row)


def has_staged(session: Session) -> bool:
    """Whether this transaction has events waiting to be appended when it commits."""
    return bool(session.info.get(_STAGED))


def holds(session: Session, window_id: int) -> None:
    """Note that this transaction holds ``window_id``'s row already (it inserted the window, or
    locked it for update): appending events about it need not lock it again."""
    session.info.setdefault(_HELD, set()).add(window_id)


def append_staged(session: Session) -> None:
    """Append the staged events now, as the transaction's last step (see the module notes)."""
    _stage_direct_adds(session)
    staged: list[AuditEvent] = session.info.pop(_STAGED, [])
    if not staged:
        return
    session.flush()  # everything else first: its row locks come before the chain lock
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        held = session.info.get(_HELD, set())
        referenced = sorted({r.window_id for r in staged if r.window_id is not None} - held)
        if referenced:
            locking = select(Window.id).where(Window.id.in_(referenced))
            session.execute(locking.with_for_update(read=True, key_share=True)).all()
        session.execute(_PG_CHAIN_LOCK)
        # Ids follow the chain: taken under the lock, so id order is append order.
        reserved = session.execute(_PG_HEAD_AND_IDS, {"n": len(staged)}).all()
        prev = reserved[0].hash or GENESIS
        ids = [int(r.id) for r in reserved]
    else:
        head = session.execute(_HEAD).first()
        last_id, prev = (head.id, head.hash) if head is not None else (0, GENESIS)
        ids = list(range(last_id + 1, last_id + 1 + len(staged)))
    for row, row_id in zip(staged, ids, strict=True):
        row.id = row_id
        row.detail = row.detail or ""
        # Hash what the database will hand back: JSON as it round-trips.
        row.data = json.loads(json.dumps(row.data or {}))
        row.prev_hash, row.hash = prev, event_hash(row, prev)
        prev = row.hash
    # The rows as they are, in one statement: the caller's objects keep their ids and hashes,
    # and nothing about them is left for the session to track.
    session.execute(_INSERT, [row_values(row) for row in staged])


def install(sessions: sessionmaker[Session]) -> None:
    """Make sessions from ``sessions`` append audit events through the chain (events staged in
    a transaction that rolls back are forgotten with it: see storage.unit)."""
    event.listen(sessions, "before_flush", _stage_direct_adds)
    event.listen(sessions, "before_commit", _append_on_commit)


def _stage_direct_adds(session: Session, *_flush_args: Any) -> None:
    # An event added with session.add() is chained like any other, at commit.
    for obj in list(session.new):
        if isinstance(obj, AuditEvent) and obj.hash is None:
            session.expunge(obj)
            stage(session, obj)


def _append_on_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint is not the end of the transaction
        append_staged(session)


@dataclass(frozen=True)
class Break:
    """The first event where the chain does not hold, and why."""

    event_id: int
    at: str
    action: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of walking the chain."""

    events: int
    head_id: int | None
    head_hash: str
    broken: Break | None

    @property
    def ok(self) -> bool:
        """True when every event is intact and linked to the one before."""
        return self.broken is None


def verify(session: Session, *, batch: int = 1000) -> Verdict:
    """Walk the trail in id order; stop at the first event that is altered or out of chain."""
    prev, count, head_id = GENESIS, 0, None
    for row in _rows(session, batch):
        problem = None
        if row.prev_hash != prev:
            before = "the start of the trail" if head_id is None else f"event #{head_id}"
            problem = (
                f"its prev_hash does not match the hash of {before}: "
                "events were removed or inserted before it, or the one before it was rewritten"
            )
        elif row.hash != event_hash(row, row.prev_hash):
            problem = "its content does not match its hash: it was changed after it was written"
        if problem is not None:
            at = row.at.isoformat() if row.at is not None else "?"
            return Verdict(count, head_id, prev, Break(row.id, at, row.action, problem))
        prev, head_id, count = row.hash, row.id, count + 1
    return Verdict(count, head_id, prev, None)


def hash_of(session: Session, event_id: int) -> str | None:
    """The stored hash of one event, or None when there is no such event."""
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id))


def _rows(session: Session, batch: int) -> Iterator[Any]:
    table = AuditEvent.__table__
    last = 0
    while True:
        stmt = select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
        rows = session.execute(stmt).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
