"""When the client may repeat a request, and how long it waits first."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

# These fail before any byte of the request leaves, so even a write may be sent again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# These cannot succeed on a second try: the request itself is malformed or unroutable.
HOPELESS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on repeating a request: attempts in total, exponential backoff, Retry-After cap."""

    max_attempts: int = 3
    base_backoff: float = 0.5
    max_backoff: float = 4.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_backoff, self.max_backoff, self.max_retry_after) < 0:
            raise ValueError("backoff and Retry-After limits must not be negative")

    def backoff(self, attempt: int) -> float:
        """Return the wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_backoff, self.base_backoff * 2 ** (attempt - 1)))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Turn a Retry-After header (seconds or HTTP date) into seconds from `now`."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_date(text, now)
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        return None
    return seconds


def _seconds_until_date(text: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are always GMT; "-0000" parses as naive.
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def wait_before_retry(
    policy: RetryPolicy,
    *,
    status: int,
    retry_after: float | None,
    attempt: int,
    write: bool,
) -> float | None:
    """Return how long to wait before repeating an answered request, or None to stop."""
    if status != 429 and status < 500:
        return None
    if attempt >= policy.max_attempts:
        return None
    if retry_after is not None and retry_after > policy.max_retry_after:
        return None
    # A write is repeated only when the server said plainly that it did not take it.
    if write and not (status in (429, 503) and retry_after is not None):
        return None
    return retry_after if retry_after is not None else policy.backoff(attempt)
