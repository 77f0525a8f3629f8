"""Bearer tokens: who is calling and what they may do.

The configuration holds only each token's SHA-256 (in the variable its ``hash_env`` names);
a presented token is hashed and compared with every configured hash in constant time. The
token itself is never kept, logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config import ApiToken
from bot.domain.actors import api_actor

READ = "read"
REQUEST = "request"
APPROVE_FOR_TICKETS = "approve-for-tickets"


def hash_token(token: str) -> str:
    """The SHA-256 of a token, in hex: what ``hash_env`` holds."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: its token's name and roles."""

    name: str
    roles: frozenset[str]

    @property
    def actor(self) -> str:
        """Who the ledger and the cards say acted: ``api:<name>``."""
        return api_actor(self.name)


class Tokens:
    """The configured tokens, by hash."""

    def __init__(self, tokens: Sequence[ApiToken], hashes: Mapping[str, str]) -> None:
        self._known = [
            (bytes.fromhex(hashes[t.name]), Caller(t.name, frozenset(t.roles)))
            for t in tokens
            if t.name in hashes
        ]

    def caller(self, authorization: str) -> Caller | None:
        """The caller an ``Authorization: Bearer <token>`` header names, or None.

        Every configured hash is compared, each in constant time, whichever matches.
        """
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        presented = hashlib.sha256(token.encode()).digest()
        found: Caller | None = None
        for digest, caller in self._known:
            if hmac.compare_digest(presented, digest):
                found = caller
        return found
