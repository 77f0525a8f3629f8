"""Environments' write contracts in the ledger. Functions take the caller's session and never
commit.

A contract is kept as the JSON its owner (coursedog.contract) writes; this module does not
read inside it. One row per environment: learning again replaces the row, forgets what a
verification proved of the one before, and appends an audit event saying what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import audit
from storage.dialect_insert import insert_new
from storage.models import StoredContract, row_values

SOURCE_RECORDING = "recording"
LEARNED = "write_contract_learned"
VERIFIED = "write_contract_verified"


def get(session: Session, environment: str) -> StoredContract | None:
    """The environment's stored contract, if any."""
    return session.get(StoredContract, environment)


def every(session: Session) -> Sequence[StoredContract]:
    """Every stored contract, by environment."""
    return session.scalars(select(StoredContract).order_by(StoredContract.environment)).all()


def store_learned(
    session: Session,
    *,
    environment: str,
    contract: dict[str, Any],
    recording: str,
    host: str,
    at: datetime,
    actor: str,
    summary: str,
) -> StoredContract:
    """Keep a contract learned from ``recording`` as the environment's, in place of any before
    it, and append the audit event (``summary`` is its one-line detail)."""
    fresh = StoredContract(
        environment=environment,
        contract=contract,
        source=SOURCE_RECORDING,
        recording=recording[:255],
        host=host,
        learned_at=at,
        learned_by=actor[:64],
    )
    # Insert if absent (a concurrent learner's row is then updated below, under its lock).
    stmt = insert_new(session, StoredContract, "environment", returning="environment")
    inserted = session.scalar(stmt, row_values(fresh)) is not None
    row = session.get(StoredContract, environment, with_for_update=True, populate_existing=True)
    assert row is not None
    before = None if inserted else _described(row)
    if not inserted:
        row.contract, row.source, row.recording = contract, SOURCE_RECORDING, fresh.recording
        row.host, row.learned_at, row.learned_by = host, at, fresh.learned_by
        row.verified_at = row.verified_host = row.proof = None
    audit.add(
        session,
        at=at,
        actor=actor[:64],
        action=LEARNED,
        environment=environment,
        detail=summary,
        data={"before": before, "after": _described(row)},
    )
    return row


def record_verified(
    session: Session,
    *,
    environment: str,
    host: str,
    proof: dict[str, Any],
    at: datetime,
    actor: str,
    summary: str,
) -> StoredContract | None:
    """Note what a verification proved of the environment's stored contract, with the audit
    event (``summary`` its detail); None when no contract is stored."""
    row = session.get(StoredContract, environment, with_for_update=True, populate_existing=True)
    if row is None:
        return None
    before = _described(row)
    row.verified_at, row.verified_host, row.proof = at, host, proof
    audit.add(
        session,
        at=at,
        actor=actor[:64],
        action=VERIFIED,
        environment=environment,
        detail=summary,
        data={"before": before, "after": _described(row), "proof": proof},
    )
    return row


def _described(row: StoredContract) -> dict[str, Any]:
    return {
        "contract": row.contract,
        "source": row.source,
        "recording": row.recording,
        "host": row.host,
        "learned_at": row.learned_at.isoformat(),
        "learned_by": row.learned_by,
        "verified_at": row.verified_at.isoformat() if row.verified_at else None,
        "verified_host": row.verified_host,
    }
