"""Sending one request to Coursedog with bounded retries: the one choke point of every call."""

from __future__ import annotations

import functools
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from coursedog.responses import Call
from coursedog.retry import HOPELESS, NOT_SENT, RetryPolicy, parse_retry_after, wait_before_retry

logger = logging.getLogger("coursedog")

DEFAULT_RETRY = RetryPolicy()


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every transport of the process: each loads the CA bundle (~30 ms)."""
    return httpx.create_ssl_context()


class Transport:
    """An HTTP client with the retry rule, timeout and sleep every call to one host shares."""

    def __init__(
        self,
        *,
        http: httpx.Client | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 10.0,
    ) -> None:
        self._owns_http = http is None
        self._http = (
            http if http is not None else httpx.Client(follow_redirects=False, verify=_tls())
        )
        self._retry = retry
        self._sleep = sleep
        self._timeout = httpx.Timeout(timeout)

    def send(
        self,
        call: Call,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        write: bool = False,
        token: str | None = None,
    ) -> httpx.Response:
        """Send with bounded retries; return the final answer or raise TransportError."""
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
            headers["Cookie"] = f"token={token}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    method, url, json=json, params=params, headers=headers, timeout=self._timeout
                )
            except httpx.TransportError as exc:
                self._sleep(self._transport_wait(call, exc, attempt, write=write))
                continue
            logger.debug("%s %s -> %s", call.operation, call.school, response.status_code)
            retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            wait = wait_before_retry(
                self._retry,
                status=response.status_code,
                retry_after=retry_after,
                attempt=attempt,
                write=write,
            )
            if wait is None:
                return response
            self._log_retry(call, str(response.status_code), wait, attempt)
            self._sleep(wait)

    def close(self) -> None:
        """Close the HTTP client, but only if this object created it."""
        if self._owns_http:
            self._http.close()

    def _transport_wait(
        self, call: Call, exc: httpx.TransportError, attempt: int, *, write: bool
    ) -> float:
        """Return the wait before another try, or raise when there must be none."""
        if write and not isinstance(exc, NOT_SENT):
            raise call.lost_answer(exc) from exc
        if isinstance(exc, HOPELESS) or attempt >= self._retry.max_attempts:
            raise call.unreachable(exc, attempt) from exc
        wait = self._retry.backoff(attempt)
        self._log_retry(call, type(exc).__name__, wait, attempt)
        return wait

    def _log_retry(self, call: Call, what: str, wait: float, attempt: int) -> None:
        school = f" for {call.school}" if call.school else ""
        logger.warning(
            "%s%s at %s: %s; retrying in %.2fs (attempt %d of %d)",
            call.operation, school, call.host, what, wait, attempt + 1,
            self._retry.max_attempts,
        )  # fmt: skip
