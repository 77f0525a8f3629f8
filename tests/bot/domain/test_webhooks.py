"""How webhook requests are signed and checked, and how long a failed delivery waits."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.domain.webhooks import (
    EVENT_ID,
    FRESHNESS_SECONDS,
    SIGNATURE,
    TIMESTAMP,
    retry_delay,
    signature,
    signed_headers,
    verify,
)

SECRET = "endpoint-secret-0123456789abcdef"
BODY = b'{"id":"evt_1","type":"active"}'


def test_the_signature_is_slacks_v0_scheme_over_timestamp_and_body() -> None:
    expected = hmac.new(SECRET.encode(), b"v0:1700000000:" + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1700000000, BODY) == f"v0={expected}"


def test_signed_headers_carry_the_event_id_timestamp_and_signature() -> None:
    headers = signed_headers(SECRET, "evt_1", 1700000000, BODY)
    assert headers[EVENT_ID] == "evt_1"
    assert headers[TIMESTAMP] == "1700000000"
    assert headers[SIGNATURE] == signature(SECRET, 1700000000, BODY)
    assert headers["Content-Type"] == "application/json"


def test_a_genuine_fresh_request_verifies() -> None:
    headers = signed_headers(SECRET, "evt_1", 1700000000, BODY)
    assert verify(SECRET, headers, BODY, now=1700000000 + FRESHNESS_SECONDS) is None


@pytest.mark.parametrize(
    ("secret", "body", "now", "why"),
    [
        ("another-secret-0123456789abcdef", BODY, 1700000000, "bad signature"),
        (SECRET, BODY + b" ", 1700000000, "bad signature"),
        (SECRET, BODY, 1700000000 + FRESHNESS_SECONDS + 1, "stale timestamp"),
        (SECRET, BODY, 1700000000 - FRESHNESS_SECONDS - 1, "stale timestamp"),
    ],
)
def test_a_forged_changed_or_stale_request_is_refused(
    secret: str, body: bytes, now: int, why: str
) -> None:
    headers = signed_headers(secret, "evt_1", 1700000000, BODY)
    assert verify(SECRET, headers, body, now=now) == why


@pytest.mark.parametrize(
    "headers",
    [{}, {TIMESTAMP: "1700000000"}, {TIMESTAMP: "soon", SIGNATURE: "v0=00"}],
)
def test_a_request_without_signature_or_timestamp_is_refused(headers: dict[str, str]) -> None:
    assert verify(SECRET, headers, BODY, now=1700000000) == "no signature or timestamp"


def test_retries_back_off_exponentially_up_to_the_cap_with_jitter() -> None:
    most = [retry_delay(n, first=10, cap=3600, draw=lambda: 1.0) for n in range(1, 12)]
    assert most[:4] == [10, 20, 40, 80]
    assert max(most) == 3600 and most[-1] == 3600
    least = [retry_delay(n, first=10, cap=3600, draw=lambda: 0.0) for n in range(1, 12)]
    assert least[:2] == [5, 10] and least[-1] == 1800
    assert retry_delay(10_000, first=10, cap=60, draw=lambda: 0.5) == 45
