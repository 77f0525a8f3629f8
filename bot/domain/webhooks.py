"""Signed webhooks out: the events a receiver can hear of, how a request is signed, and how
long a failed delivery waits before the next attempt. Pure: no HTTP, no SQL.

A request carries the event as its JSON body and three headers:

- ``X-SisMaint-Event-Id``: the event's id, the same on every attempt (receivers de-duplicate
  by it);
- ``X-SisMaint-Request-Timestamp``: Unix seconds when this attempt was signed;
- ``X-SisMaint-Signature``: ``v0=`` and the hex HMAC-SHA256, keyed with the endpoint's
  secret, of ``v0:{timestamp}:{body}``, as Slack signs its own requests.

docs/webhooks.md shows a receiver that checks all three.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable, Mapping
from enum import StrEnum

VERSION = "v0"
SIGNATURE = "X-SisMaint-Signature"
TIMESTAMP = "X-SisMaint-Request-Timestamp"
EVENT_ID = "X-SisMaint-Event-Id"
# A receiver refuses a request signed longer ago than this (as Slack's own requests).
FRESHNESS_SECONDS = 300


class EventType(StrEnum):
    """What happened to a window, or to one of its environments, that a receiver hears of."""

    REQUESTED = "requested"
    APPROVED = "approved"  # decided; ``active`` follows at once when it starts now
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # nobody decided in time, or its whole time passed unstarted
    ACTIVE = "active"  # holds its environments' merges off from now
    EXTENDED = "extended"
    ENDED = "ended"
    SWITCHED_OFF = "switched_off"  # one environment's merges off, verified by reading back
    NEEDS_A_PERSON = "needs_a_person"  # one environment: the bot cannot finish on its own
    RESTORED = "restored"  # one environment back as before the window, verified


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` keyed with ``secret``."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def signed_headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery attempt."""
    return {
        "Content-Type": "application/json",
        EVENT_ID: event_id,
        TIMESTAMP: str(timestamp),
        SIGNATURE: signature(secret, timestamp, body),
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
    """Why a request is not a genuine, fresh delivery (None when it is). ``headers`` must
    look names up case-insensitively (as httpx's and most frameworks' do)."""
    stamp = headers.get(TIMESTAMP, "")
    given = headers.get(SIGNATURE, "")
    if not stamp.isdecimal() or not given:
        return "no signature or timestamp"
    if abs(now - int(stamp)) > FRESHNESS_SECONDS:
        return "stale timestamp"
    if not hmac.compare_digest(signature(secret, int(stamp), body), given):
        return "bad signature"
    return None


def retry_delay(
    attempts: int, *, first: float, cap: float, draw: Callable[[], float] = random.random
) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: exponential from
    ``first``, capped at ``cap``, with jitter (between half and all of it) so that endpoints
    coming back are not hit by every sender at once."""
    ceiling = min(cap, first * 2.0 ** max(0, min(attempts - 1, 40)))
    return ceiling * (0.5 + 0.5 * draw())
