"""One login to a Coursedog host, shared by every school the same user reaches on it.

Coursedog documents its login: a token that lasts 24 hours and that ends early when the same
user signs in to the web app. So a session logs in once for all the clients that share it,
renews the token before its day is up, and after a 401 logs in once more (never two logins
at once) and says what most likely happened.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from coursedog import wire
from coursedog.errors import ApiError, CoursedogError
from coursedog.responses import Call, decode, parse
from coursedog.retry import RetryPolicy
from coursedog.transport import DEFAULT_RETRY, Transport
from coursedog.wire import DEFAULT_WIRE, WireConfig

logger = logging.getLogger("coursedog")

TOKEN_LIFETIME = 24 * 3600.0  # documented by Coursedog
# Renewed an hour early, so a call never goes out with a token about to expire.
RENEW_AFTER = 23 * 3600.0
# Answers to a login body Coursedog could not read (as opposed to refused credentials).
BODY_REFUSED = frozenset({400, 422})


@dataclass(frozen=True)
class Login:
    """The current token's login: when (the session clock's seconds), how, and how it went."""

    issued_at: float
    password_field: str
    configured_field: str
    refused_fields: tuple[tuple[str, int], ...]
    status: int
    seconds: float

    @property
    def renews_at(self) -> float:
        """When the session logs in again of its own accord."""
        return self.issued_at + RENEW_AFTER

    @property
    def expires_at(self) -> float:
        """When Coursedog stops accepting the token."""
        return self.issued_at + TOKEN_LIFETIME


class Session:
    """A Coursedog login on one host, shared safely between clients and threads."""

    def __init__(
        self,
        *,
        base_url: str,
        email: str,
        password: str,
        wire: WireConfig = DEFAULT_WIRE,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
        renew_after: float = RENEW_AFTER,
    ) -> None:
        if not email or not password:
            raise ValueError("a Coursedog session needs the service user's email and password")
        self.base_url, self.host = base_of(base_url)
        self.email = email
        self._password = password
        self.wire = wire
        self.transport = transport if transport is not None else Transport()
        self._clock = clock
        self._renew_after = renew_after
        self._lock = threading.Lock()
        self._token: str | None = None
        self._login: Login | None = None
        # The one spelling of the password key that works here, once a login has found it.
        self._field = wire.password_field
        # The refused token and the error of the fresh login that followed, if it failed.
        self._refused: tuple[str, CoursedogError] | None = None
        self._users = 0
        self.closed = False

    def __repr__(self) -> str:
        return f"Session(host={self.host!r}, email={self.email!r})"

    @property
    def login(self) -> Login | None:
        """The current token's login, None before the first one."""
        with self._lock:
            return self._login

    def token(self) -> str:
        """The session's token, logging in first when there is none or it is due for renewal."""
        with self._lock:
            login = self._login
            if self._token is not None and login is not None:
                if self._clock() - login.issued_at < self._renew_after:
                    return self._token
                logger.info(
                    "renewing the Coursedog session of %s at %s, %.0f h after its login",
                    self.email, self.host, (self._clock() - login.issued_at) / 3600,
                )  # fmt: skip
            self._token = self._log_in()
            return self._token

    def renew(self, *, stale: str, call: Call) -> str:
        """A new token after ``stale`` was refused (401) on ``call``: one login for all."""
        with self._lock:
            if self._token not in (None, stale):
                return self._token  # another caller already replaced the refused token
            if self._refused is not None and self._refused[0] == stale:
                raise self._refused[1]  # a fresh login was already tried for it: once is enough
            self._say_why_refused(call)
            self._token = None
            try:
                self._token = self._log_in()
            except CoursedogError as exc:
                self._refused = (stale, exc)
                raise
            return self._token

    def api_error(self, call: Call, response: httpx.Response, *, write: bool) -> ApiError:
        """The error for an error answer, with every secret of this session masked."""
        return call.api_error(response, write=write, secrets=(self._password, self._token))

    def has_password(self, password: str) -> bool:
        """Whether this session logs in with ``password``."""
        return secrets.compare_digest(self._password.encode(), password.encode())

    def mask(self, text: str) -> str:
        """``text`` with the password and the current token replaced by ***."""
        with self._lock:
            for secret in (self._password, self._token):
                if secret:
                    text = text.replace(secret, "***")
        return text

    def share(self) -> Session:
        """Count one more client using this session (each calls ``release`` when done)."""
        with self._lock:
            if self.closed:
                raise RuntimeError(f"{self!r} is closed")
            self._users += 1
        return self

    def release(self) -> None:
        """One client is done; the last one closes the session."""
        with self._lock:
            self._users -= 1
            last = self._users <= 0
        if last:
            self.close()

    def close(self) -> None:
        """Close the transport (its HTTP client, if the transport made it)."""
        self.closed = True
        self.transport.close()

    # --- logging in ------------------------------------------------------------

    def _log_in(self) -> str:
        """Log in (under the lock), trying the other seen password key when one is refused."""
        call = Call(self.host, "", wire.operation_label("POST", self.wire.login_path))
        started = time.perf_counter()
        refused: list[tuple[str, int]] = []
        for field in self._fields():
            response = self._post_login(call, field)
            if response.status_code in BODY_REFUSED:
                refused.append((field, response.status_code))
                continue
            if response.status_code in (401, 403):
                raise call.login_refused(response.status_code, self.email)
            if not response.is_success:
                raise self.api_error(call, response, write=False)
            token = parse(call, wire.token_from_wire, decode(response, call, expect_json=True))
            self._remember(field, tuple(refused), response.status_code, started)
            return token
        tried = tuple(f for f, _ in refused)
        raise call.login_refused(refused[-1][1], self.email, tried)

    def _fields(self) -> tuple[str, ...]:
        """The password keys to try: the one known to work (or configured), then the others."""
        others = [f for f in (self.wire.password_field, *wire.PASSWORD_FIELDS) if f != self._field]
        return tuple(dict.fromkeys((self._field, *others)))

    def _post_login(self, call: Call, field: str) -> httpx.Response:
        body = {"email": self.email, field: self._password}
        url = self.base_url + self.wire.login_path
        return self.transport.send(call, "POST", url, json=body)

    def _remember(
        self, field: str, refused: tuple[tuple[str, int], ...], status: int, started: float
    ) -> None:
        self._login = Login(
            issued_at=self._clock(),
            password_field=field,
            configured_field=self.wire.password_field,
            refused_fields=refused,
            status=status,
            seconds=time.perf_counter() - started,
        )
        self._refused = None
        if field != self._field or field != self.wire.password_field:
            logger.warning(
                "Coursedog at %s did not accept the password under %r but did under %r; "
                'set password_field = "%s" in [coursedog_api]',
                self.host, self.wire.password_field, field, field,
            )  # fmt: skip
        self._field = field
        logger.info("logged in to %s as %s", self.host, self.email)

    def _say_why_refused(self, call: Call) -> None:
        login = self._login
        age = None if login is None else self._clock() - login.issued_at
        if age is not None and age < TOKEN_LIFETIME:
            logger.warning(
                "Coursedog at %s ended the session of %s %s after its login, before its 24 h "
                "were up (401 for %s%s): most likely someone signed in to the Coursedog web "
                "app as this user, which ends its API sessions. Logging in again; keep this "
                "user for the bot alone.",
                self.host, self.email, _duration(age), call.operation, call.of_school,
            )  # fmt: skip
        else:
            logger.info(
                "%s refused the session of %s for %s; logging in again",
                self.host, self.email, call.operation,
            )  # fmt: skip


def base_of(base_url: str) -> tuple[str, str]:
    """The base URL to put paths after, and its host; a ValueError for anything but http(s)."""
    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("base_url must be an http(s) URL such as https://app.coursedog.com")
    # Rebuilt without user info or query, so no credential can ride along in the URL.
    host = url.netloc.decode()
    return f"{url.scheme}://{host}{url.path.rstrip('/')}", host


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


class SessionPool:
    """One Session per host and user: every environment of a system of schools shares it."""

    def __init__(
        self,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._retry = retry
        self._sleep = sleep
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str], Session] = {}

    def session(
        self, *, base_url: str, email: str, password: str, wire: WireConfig = DEFAULT_WIRE
    ) -> Session:
        """The session of ``email`` on ``base_url``'s host, made on first use."""
        base, host = base_of(base_url)
        key = (base.lower(), email.lower())
        with self._lock:
            known = self._sessions.get(key)
            if known is not None and not known.closed:
                if not known.has_password(password):
                    raise ValueError(f"{email} at {host} is given two different passwords")
                if known.wire != wire:
                    raise ValueError(f"{host} is given two different sets of Coursedog API names")
                return known
            session = Session(
                base_url=base_url,
                email=email,
                password=password,
                wire=wire,
                transport=Transport(retry=self._retry, sleep=self._sleep, timeout=self._timeout),
                clock=self._clock,
            )
            self._sessions[key] = session
            return session

    def sessions(self) -> list[Session]:
        """Every session made so far, open or closed."""
        with self._lock:
            return list(self._sessions.values())
