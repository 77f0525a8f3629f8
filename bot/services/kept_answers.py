"""What an API request with an Idempotency-Key answered, kept so that a repeat of it (a
script retrying after a lost answer) gets the same answer (storage.replay keeps it beside the
request's replay key, for as long as the key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from storage import replay
from storage.db import reading


@dataclass(frozen=True)
class KeptAnswer:
    """A status and body, and the fingerprint of the request that was answered."""

    request: str
    status: int
    body: dict[str, Any]

    def to_payload(self) -> dict[str, Any]:
        """A JSON-ready copy for the ledger."""
        return {"request": self.request, "status": self.status, "body": self.body}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> KeptAnswer:
        """Read back what ``to_payload`` wrote."""
        return cls(str(payload["request"]), int(payload["status"]), dict(payload["body"]))


class KeptAnswers:
    """Keeps and gives back the answers of requests that acted once."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def keep(self, key: str, answer: KeptAnswer) -> None:
        """Keep ``answer`` with ``key``, the replay key its request holds."""
        with self._sessions.begin() as session:
            replay.keep_answer(session, key, answer.to_payload())

    def given(self, key: str) -> KeptAnswer | None:
        """The answer kept with ``key``; None while its request is still at work, or when it
        ended before its answer was kept (a crash)."""
        with reading(self._sessions) as session:
            payload = replay.kept_answer(session, key)
        return None if payload is None else KeptAnswer.from_payload(payload)
