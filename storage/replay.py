"""A request that may arrive more than once acts at most once: its key is claimed with its
first write to the ledger.

A signed request stays valid for minutes, and a copy of it sent in that time passes every
check its first did. Answering it again is harmless when it changes nothing (help, status,
list); a request that changes the ledger must change it once.

Whoever handles such a request runs it inside ``acting_once(key, expires_at)``. The key
travels in a context variable, so work the request hands to another thread with its context
(what a listener does after its acknowledgement) carries it too. The first transaction of
the request that writes inserts the key into ``replay_keys`` before its first write, with
``INSERT ... ON CONFLICT DO NOTHING``: claim and effect then commit or roll back together, and
the claim costs a statement, never a transaction (a commit) of its own. A key already there
means a copy of this request has acted (or is acting: the database makes this one wait for
its outcome), so ``Replayed`` is raised and the transaction rolls back: the copy acts not at
all. Later transactions of the request that holds the key do not claim it again; if the
claiming transaction rolls back, the next one that writes claims afresh.

The claim is made here, by the sessions every writer uses, rather than by each service: no
write path can forget it, and a request that only reads pays nothing. It is made at the first
write rather than at the start of a transaction because many transactions only read. A write
is a flush with something in it, an INSERT, UPDATE or DELETE run through the session, or audit
events appended at commit (see storage.audit). Savepoints are not used by the ledger; a claim
made inside one that rolls back would be lost with it.

Keys are kept until no copy could still pass the signature check (``expires_at``); ``purge``
drops the rest.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from storage import audit_chain, unit
from storage.dialect_insert import insert_new
from storage.models import ReplayKey

_HOLDS = unit.transaction_key("replay_claim_held")  # this transaction inserted the key


@dataclass(eq=False)
class Claim:
    """The key of the request being handled, and whether one of its transactions holds it."""

    key: str
    expires_at: datetime
    held: bool = False


class Replayed(Exception):
    """A copy of this request has acted already (or is acting now); this one did nothing."""

    def __init__(self, key: str) -> None:
        super().__init__(f"request {key[:12]} has acted already")
        self.key = key


_CURRENT: contextvars.ContextVar[Claim | None] = contextvars.ContextVar(
    "sis_maint_replay_claim", default=None
)


@contextmanager
def acting_once(key: str, expires_at: datetime) -> Iterator[Claim]:
    """Handle one request inside the block: its writes claim ``key`` (see the module notes)."""
    claim = Claim(key, expires_at)
    token = _CURRENT.set(claim)
    try:
        yield claim
    finally:
        _CURRENT.reset(token)


def keep_answer(session: Session, key: str, answer: dict[str, Any]) -> None:
    """Keep what the request that holds ``key`` answered, for its repeats."""
    session.execute(update(ReplayKey).where(ReplayKey.key == key).values(answer=answer))


def kept_answer(session: Session, key: str) -> dict[str, Any] | None:
    """What the request that claimed ``key`` answered, if it is kept."""
    return session.scalar(select(ReplayKey.answer).where(ReplayKey.key == key))


def purge(session: Session, now: datetime) -> int:
    """Forget the keys no copy of their request could still use; returns how many."""
    result: Any = session.execute(delete(ReplayKey).where(ReplayKey.expires_at < now))
    return int(result.rowcount or 0)


def install(sessions: sessionmaker[Session]) -> None:
    """Make writes from ``sessions`` claim the key of the request they serve, if any."""
    event.listen(sessions, "do_orm_execute", _on_execute)
    event.listen(sessions, "before_flush", _on_flush)
    # First among the commit hooks: before audit events are appended under the chain lock,
    # which must be held while waiting for nothing else (see storage.audit).
    event.listen(sessions, "before_commit", _on_commit, insert=True)
    event.listen(sessions, "after_rollback", _on_rollback)


def _claim(session: Session) -> None:
    claim = _CURRENT.get()
    if claim is None or claim.held:
        return
    stmt = insert_new(session, ReplayKey, "key", returning="key")
    # On the connection, not the session: this insert is not a write that claims.
    row = (
        session.connection()
        .execute(stmt, {"key": claim.key, "expires_at": claim.expires_at})
        .first()
    )
    if row is None:
        if claim.held:  # taken meanwhile by another transaction of this same request
            return
        raise Replayed(claim.key)
    claim.held = True
    session.info[_HOLDS] = claim


def _on_execute(state: ORMExecuteState) -> None:
    if state.statement.is_dml and _CURRENT.get() is not None:
        _claim(state.session)


def _on_flush(session: Session, *_flush_args: Any) -> None:
    if _CURRENT.get() is not None and (session.new or session.dirty or session.deleted):
        _claim(session)


def _on_commit(session: Session) -> None:
    if _CURRENT.get() is not None and audit_chain.has_staged(session):
        _claim(session)


def _on_rollback(session: Session) -> None:
    claim: Claim | None = session.info.get(_HOLDS)
    if claim is not None:  # the key went with the transaction: the next write claims it again
        claim.held = False
