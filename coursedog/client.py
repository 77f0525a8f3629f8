"""A small synchronous client for the parts of the Coursedog API the bot needs."""

from __future__ import annotations

import functools
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from coursedog import wire
from coursedog.errors import CoursedogError
from coursedog.models import MergeRun, Schedule, ScheduleSnapshot
from coursedog.responses import Call, decode, parse
from coursedog.retry import HOPELESS, NOT_SENT, RetryPolicy, parse_retry_after, wait_before_retry
from coursedog.wire import DEFAULT_WIRE, WireConfig

logger = logging.getLogger("coursedog")

DEFAULT_RETRY = RetryPolicy()
# Reads of one client that may run beside their callers at once; more wait their turn.
READ_THREADS = 4


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client of the process: each loads the CA bundle (~30 ms)."""
    return httpx.create_ssl_context()


class CoursedogClient:
    """One Coursedog instance (host + school), shared safely between threads."""

    def __init__(
        self,
        *,
        base_url: str,
        school: str,
        email: str,
        password: str,
        http: httpx.Client | None = None,
        wire: WireConfig = DEFAULT_WIRE,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 10.0,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("base_url must be an http(s) URL such as https://app.coursedog.com")
        if not school:
            raise ValueError("school must be the School Unique ID")
        # Rebuilt without user info or query, so no credential can ride along in the URL.
        self._base = f"{url.scheme}://{url.netloc.decode()}{url.path.rstrip('/')}"
        self._host = url.netloc.decode()
        self._school = school
        self._email = email
        self._password = password
        self._owns_http = http is None
        self._http = (
            http if http is not None else httpx.Client(follow_redirects=False, verify=_tls())
        )
        self._wire = wire
        self._retry = retry
        self._sleep = sleep
        self._timeout = httpx.Timeout(timeout)
        self._token: str | None = None
        self._token_lock = threading.Lock()
        # The refused token and the error of the fresh login that followed, if it failed.
        self._refused: tuple[str, CoursedogError] | None = None
        # The saved-state read runs here while the calling thread reads the schedule.
        self._reads = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="coursedog-read")

    def __repr__(self) -> str:
        return f"CoursedogClient(host={self._host!r}, school={self._school!r})"

    def __enter__(self) -> CoursedogClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def host(self) -> str:
        """The Coursedog host, e.g. app.coursedog.com."""
        return self._host

    @property
    def school(self) -> str:
        """The School Unique ID this client addresses."""
        return self._school

    # --- public operations -----------------------------------------------------

    def read_schedule(self) -> ScheduleSnapshot:
        """Read both schedule switches and the enabled saved state, the two calls at once.

        A failure of either raises its own error (the schedule's first when both fail), and
        only once both calls have ended, so no request outlives the read.
        """
        token = self._current_token()  # log in here, once, rather than in both calls
        save_state = self._reads.submit(self._read_save_state, token)
        try:
            schedule_obj = self._read_schedule_object(token)
        finally:
            wait([save_state])
        return ScheduleSnapshot(
            schedule=self._switches(schedule_obj),
            save_state_id=save_state.result(),
            schedule_object=schedule_obj,
        )

    def read_switches(self) -> Schedule:
        """Read the two switches only, with one call: enough to read a write back."""
        return self._switches(self._read_schedule_object())

    def write_schedule(self, schedule: Schedule, *, over: ScheduleSnapshot | None = None) -> None:
        """Set both switches to the given absolute value (never a toggle).

        An assumed PUT may replace the whole object, so its other fields are carried over:
        from ``over``, the snapshot just read, or else from a read made for the purpose.
        """
        cfg = self._wire
        current: Mapping[str, Any] | None = None
        if cfg.schedule_write_keeps_other_fields:
            current = over.schedule_object if over is not None else None
            if current is None:
                current = self._read_schedule_object()
        body = wire.schedule_reply(wire.schedule_to_wire(schedule, cfg, current), cfg)
        self._request(cfg.schedule_write_method, cfg.schedule_write_path, json=body, write=True)
        logger.info("wrote %s to %s for %s", schedule.describe(), self._host, self._school)

    def post_activity_comment(self, text: str) -> None:
        """Add a comment to the Merge Settings Activity tab."""
        if not text.strip():
            raise ValueError("an Activity comment must not be empty")
        body = wire.comment_body(text, self._wire)
        self._request(self._wire.comment_method, self._wire.comment_path, json=body, write=True)

    def merge_history(self, schedule_type: str, size: int = 5) -> list[MergeRun]:
        """Return the latest section merges of one schedule type, newest first."""
        if schedule_type not in wire.SCHEDULE_TYPES:
            raise ValueError(f"schedule_type must be one of {', '.join(wire.SCHEDULE_TYPES)}")
        if not 1 <= size <= 100:
            raise ValueError("size must be between 1 and 100")
        path = self._wire.merge_history_path
        raw = self._request("GET", path, params=wire.merge_history_params(schedule_type, size))
        return parse(self._call("GET", path), wire.merge_runs_from_wire, raw, schedule_type)

    def merge_settings_url(self) -> str:
        """Link to this school's Merge Settings page in the Coursedog web app."""
        return wire.merge_settings_link(self._host, self._school, self._wire)

    def merge_report_url(self, report_id: str) -> str:
        """Link to one merge report in the Coursedog web app."""
        return wire.merge_report_link(self._host, self._school, report_id, self._wire)

    def close(self) -> None:
        """Stop the read threads; close the HTTP client, but only if this object created it."""
        self._reads.shutdown(wait=True, cancel_futures=True)
        if self._owns_http:
            self._http.close()

    # --- the one request path --------------------------------------------------

    def _call(self, method: str, template: str) -> Call:
        return Call(self._host, self._school, wire.operation_label(method, template))

    def _read_schedule_object(self, token: str | None = None) -> dict[str, Any]:
        path = self._wire.schedule_read_path
        raw = self._request("GET", path, token=token)
        return parse(self._call("GET", path), wire.schedule_object_from_reply, raw, self._wire)

    def _switches(self, schedule_obj: dict[str, Any]) -> Schedule:
        call = self._call("GET", self._wire.schedule_read_path)
        return parse(call, wire.schedule_from_wire, schedule_obj, self._wire)

    def _read_save_state(self, token: str) -> str | None:
        path = self._wire.save_state_path
        raw = self._request("GET", path, token=token)
        return parse(self._call("GET", path), wire.save_state_id_from_wire, raw)

    def _request(
        self,
        method: str,
        template: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        write: bool = False,
        token: str | None = None,
    ) -> Any:
        """One call; ``token`` is the session to send when the caller already holds one."""
        call = self._call(method, template)
        url = self._base + template.format(school=quote(self._school, safe=""))
        token = token or self._current_token()
        response = self._send(call, method, url, json=json, params=params, write=write, token=token)
        if response.status_code == 401:
            logger.info(
                "%s refused the session for %s; logging in again", self._host, call.operation
            )
            token = self._fresh_token(stale=token)
            response = self._send(
                call, method, url, json=json, params=params, write=write, token=token
            )
        if response.is_success:
            return decode(response, call, expect_json=not write)
        raise call.api_error(response, write=write, secrets=(self._password, self._token))

    def _send(
        self,
        call: Call,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None,
        params: Mapping[str, str | int] | None,
        write: bool,
        token: str | None,
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
            logger.debug("%s %s -> %s", call.operation, self._school, response.status_code)
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
        logger.warning(
            "%s for %s at %s: %s; retrying in %.2fs (attempt %d of %d)",
            call.operation, self._school, self._host, what, wait, attempt + 1,
            self._retry.max_attempts,
        )  # fmt: skip

    # --- session ---------------------------------------------------------------

    def _current_token(self) -> str:
        with self._token_lock:
            if self._token is None:
                self._token = self._login()
            return self._token

    def _fresh_token(self, *, stale: str) -> str:
        with self._token_lock:
            if self._token not in (None, stale):
                return self._token  # another thread already replaced the refused token
            if self._refused is not None and self._refused[0] == stale:
                # Another thread already tried a fresh login for it: one try is enough.
                raise self._refused[1]
            self._token = None
            try:
                self._token = self._login()
            except CoursedogError as exc:
                self._refused = (stale, exc)
                raise
            return self._token

    def _login(self) -> str:
        path = self._wire.login_path
        call = self._call("POST", path)
        body = wire.login_body(self._email, self._password, self._wire)
        response = self._send(
            call, "POST", self._base + path, json=body, params=None, write=False, token=None
        )
        if response.status_code in (400, 401, 403, 422):
            raise call.login_refused(response.status_code, self._email)
        if not response.is_success:
            raise call.api_error(response, write=False, secrets=(self._password,))
        token = parse(call, wire.token_from_wire, decode(response, call, expect_json=True))
        logger.info("logged in to %s as %s", self._host, self._email)
        return token
