"""Each environment's write contract and its standing: assumed, learned or verified.

Contracts live in the ledger (storage.contracts), so every replica of the bot writes the
same way and the audit trail says who learned which contract, from which recording, when.
A stored contract that does not read back as a valid one is an error naming what is wrong:
the bot never falls back to the assumed writes in its place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ConfigError
from coursedog.contract import ContractError, WriteContract
from storage import contracts
from storage.db import reading
from storage.models import StoredContract

RELEARN = "learn it again with `sis-maint coursedog learn RECORDING.har --env {env} --write`"


class Standing(StrEnum):
    """How far the bot trusts an environment's writes."""

    ASSUMED = "assumed"  # no contract: the assumed calls of coursedog.wire
    LEARNED = "learned"  # learned from a recording, not yet proven
    VERIFIED = "verified"  # proven by a round trip


class BadContract(ConfigError):
    """A stored contract that is not valid; the message names the environment and the fault."""


@dataclass(frozen=True)
class WriteStanding:
    """An environment's writes: its contract (None: assumed), where it came from, since when."""

    environment: str
    standing: Standing
    contract: WriteContract | None = None
    recording: str | None = None
    host: str | None = None
    learned_at: datetime | None = None
    verified_at: datetime | None = None

    def pair(self) -> tuple[str, date | None]:
        """The standing and the day it was reached (None when assumed)."""
        since = self.verified_at if self.standing is Standing.VERIFIED else self.learned_at
        return self.standing.value, since.date() if since is not None else None

    def describe(self) -> str:
        """E.g. "learned from a recording on 2026-11-02" or "assumed"."""
        if self.standing is Standing.VERIFIED and self.verified_at is not None:
            return f"verified on {self.verified_at.date().isoformat()}"
        if self.learned_at is not None:
            where = f" ({self.recording}, {self.host})" if self.recording else ""
            return f"learned from a recording on {self.learned_at.date().isoformat()}{where}"
        return "assumed"


def standing(session: Session, environment: str) -> WriteStanding:
    """The environment's standing; BadContract when its stored contract is not valid."""
    row = contracts.get(session, environment)
    if row is None:
        return WriteStanding(environment, Standing.ASSUMED)
    return _standing(row)


def standings(
    sessions: sessionmaker[Session], environments: Iterable[str]
) -> dict[str, WriteStanding]:
    """Each environment's standing; BadContract for one whose stored contract is not valid."""
    with reading(sessions) as session:
        return {name: standing(session, name) for name in environments}


def stored_contracts(
    sessions: sessionmaker[Session], environments: Iterable[str]
) -> dict[str, WriteContract]:
    """Environment -> its stored contract, for those that have one; BadContract for a bad one.

    Rows of environments no longer configured are left alone.
    """
    wanted = set(environments)
    with reading(sessions) as session:
        rows = [row for row in contracts.every(session) if row.environment in wanted]
        return {row.environment: contract_of(row) for row in rows}


def contract_of(row: StoredContract) -> WriteContract:
    """The contract a row holds; BadContract naming what is wrong with it."""
    try:
        return WriteContract.from_json(row.contract)
    except ContractError as exc:
        raise BadContract(
            f"The write contract stored for {row.environment} (learned from {row.recording} "
            f"on {row.learned_at.date().isoformat()}) is not valid: {exc}. The bot will not "
            f"write the assumed way in its place: {RELEARN.format(env=row.environment)}."
        ) from None


def _standing(row: StoredContract) -> WriteStanding:
    contract = contract_of(row)
    verified = row.verified_at is not None
    return WriteStanding(
        row.environment,
        Standing.VERIFIED if verified else Standing.LEARNED,
        contract,
        row.recording,
        row.host,
        row.learned_at,
        row.verified_at,
    )
