"""Retry policy: backoff, Retry-After parsing and when a request may be repeated."""

from __future__ import annotations

from typing import Any

import pytest

from coursedog.retry import RetryPolicy, parse_retry_after, wait_before_retry

NOW = 1_780_000_000.0  # a fixed instant, so HTTP dates compare deterministically


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("7", 7.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        ("-3", None),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: go now
        ("Thu, 28 May 2026 20:27:00 GMT", 1_780_000_020.0 - NOW),
        ("Thu, 28 May 2026 20:27:00 -0000", 1_780_000_020.0 - NOW),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(base_backoff=0.5, max_backoff=1.5)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"base_backoff": -1}, {"max_retry_after": -0.5}]
)
def test_policy_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("status", "retry_after", "attempt", "write", "wait"),
    [
        (200, None, 1, False, None),
        (404, None, 1, False, None),
        (500, None, 1, False, 0.5),
        (502, None, 2, False, 1.0),
        (500, None, 3, False, None),  # attempts used up
        (503, 3.0, 1, False, 3.0),
        (429, None, 1, False, 0.5),
        (429, 31.0, 1, False, None),  # above the cap: the caller escalates
        (500, None, 1, True, None),  # a write may have been applied
        (502, 2.0, 1, True, None),
        (429, None, 1, True, None),
        (429, 2.0, 1, True, 2.0),
        (503, 0.0, 1, True, 0.0),
        (503, 2.0, 3, True, None),
    ],
)
def test_wait_before_retry(
    status: int, retry_after: float | None, attempt: int, write: bool, wait: float | None
) -> None:
    got = wait_before_retry(
        POLICY, status=status, retry_after=retry_after, attempt=attempt, write=write
    )
    assert got == wait
