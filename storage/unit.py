"""What one transaction keeps in its session's ``info``, forgotten when the transaction ends.

A session can outlive a transaction (tests and the CLI reuse one); what a transaction noted
about itself (rows it holds, objects it keeps loaded) must not leak into the next one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

_KEYS: set[str] = set()


def transaction_key(key: str) -> str:
    """Register ``key`` as one of session.info's per-transaction entries; returns it."""
    _KEYS.add(key)
    return key


def keep(session: Session, key: str, obj: Any, ident: Any) -> None:
    """Hold ``obj`` until the transaction ends.

    The session's identity map refers to objects weakly; an object the caller drops is read
    again by the next step of the transaction that asks for it. Kept, it is found there.
    """
    session.info.setdefault(key, {})[ident] = obj


def install(sessions: sessionmaker[Session]) -> None:
    """Make sessions from ``sessions`` forget the per-transaction entries at each end."""
    event.listen(sessions, "after_transaction_end", _forget)


def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint within it
        for key in _KEYS:
            session.info.pop(key, None)
