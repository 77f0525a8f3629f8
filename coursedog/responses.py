"""Turning Coursedog's answers into values or into typed errors with plain messages."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar

import httpx

from coursedog import errors
from coursedog.models import Schedule
from coursedog.retry import parse_retry_after
from coursedog.wire import UnknownSchedule

T = TypeVar("T")
_DETAIL_LIMIT = 160


class _Where(TypedDict):
    host: str
    school: str
    operation: str


@dataclass(frozen=True)
class Call:
    """Who was asked what: the context every message names."""

    host: str
    school: str
    operation: str

    @property
    def of_school(self) -> str:
        """The school for messages, or nothing for a login (one login serves a host's schools)."""
        return f" (school {self.school})" if self.school else ""

    def _where(self) -> _Where:
        return {"host": self.host, "school": self.school, "operation": self.operation}

    def bad_response(self, detail: str) -> errors.BadResponse:
        """Build the error for an answer of the wrong shape."""
        return errors.BadResponse(
            f"Coursedog at {self.host} answered {self.operation}{self.of_school} "
            f"in an unexpected shape: {detail}",
            **self._where(),
        )

    def unrecognised(self, exc: UnknownSchedule) -> errors.UnrecognisedSchedule:
        """Build the error for a schedule whose values the bot does not know."""
        return errors.UnrecognisedSchedule(
            f"Coursedog at {self.host} answered {self.operation}{self.of_school} with a "
            f"schedule the bot does not recognise: {exc}",
            raw=exc.raw,
            problem=str(exc),
            **self._where(),
        )

    def not_learned(
        self, schedule: Schedule, learned: tuple[Schedule, ...]
    ) -> errors.ScheduleNotLearned:
        """Build the error for a schedule the learned write contract has no body for."""
        shown = "; ".join(state.describe() for state in learned)
        return errors.ScheduleNotLearned(
            f"Nothing was sent to Coursedog at {self.host} (school {self.school}): the write "
            f"contract learned from a recording has no body for {schedule.describe()}, only for "
            f"{shown}. Switch it by hand, or learn from a recording that shows it",
            schedule=schedule,
            learned=learned,
            **self._where(),
        )

    def lost_answer(self, exc: Exception) -> errors.OutcomeUnknown:
        """Build the error for a write whose answer never came."""
        return errors.OutcomeUnknown(
            f"Sent {self.operation} to Coursedog at {self.host}{self.of_school} but the "
            f"answer was lost ({type(exc).__name__}); read back to learn whether it was applied",
            **self._where(),
        )

    def unreachable(self, exc: Exception, attempts: int) -> errors.TransportError:
        """Build the error for a request that got no answer."""
        return errors.TransportError(
            f"Could not reach Coursedog at {self.host} for {self.operation}"
            f"{self.of_school} after {attempts} attempt(s): {type(exc).__name__}",
            **self._where(),
        )

    def login_refused(
        self, status: int, email: str, tried: tuple[str, ...] = ()
    ) -> errors.ApiError:
        """Build the error for a login that was not accepted (``tried``: password keys sent)."""
        if status in (400, 422):
            # The documented and the observed password key differ; a 400 hints at that.
            keys = f" with each password key tried ({', '.join(tried)})" if tried else ""
            return errors.ApiError(
                f"Coursedog at {self.host} rejected the login body{keys} ({status} for "
                f"{self.operation}); check coursedog_api.password_field",
                status=status,
                **self._where(),
            )
        return errors.Unauthorized(
            f"Coursedog at {self.host} refused the login of {email} ({status} for "
            f"{self.operation}); check the service user's credentials",
            status=status,
            **self._where(),
        )

    def api_error(
        self, response: httpx.Response, *, write: bool, secrets: Iterable[str | None]
    ) -> errors.ApiError:
        """Build the error for an error status, with the server's own words if short."""
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
        detail = _server_detail(response, secrets)
        cls = _error_class(status, write=write, detail=detail)
        message = f"Coursedog at {self.host} answered {status} for {self.operation}"
        message += self.of_school
        if cls is errors.SettingsLocked:
            message += ": its merge settings are locked"
        elif cls is errors.WriteRefused:
            message += ": the write was refused (the API user may be read-only, or the merge "
            message += "settings may be locked)"
        elif cls is errors.Unauthorized:
            message += " even after a fresh login"
        elif retry_after is not None:
            message += f" and asked to wait {retry_after:.0f}s"
        if detail:
            message += f" - {detail}"
        return cls(message, status=status, retry_after=retry_after, **self._where())


def decode(response: httpx.Response, call: Call, *, expect_json: bool) -> Any:
    """Return the JSON body of a successful answer (None when empty or not needed)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        if not expect_json:
            return None
        raise call.bad_response("the body is not JSON") from exc


def parse(call: Call, parser: Callable[..., T], *args: Any) -> T:
    """Run a wire parser, turning its ValueError into BadResponse."""
    try:
        return parser(*args)
    except UnknownSchedule as exc:
        raise call.unrecognised(exc) from exc
    except ValueError as exc:
        raise call.bad_response(str(exc)) from exc


def _server_detail(response: httpx.Response, secrets: Iterable[str | None]) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = (body.get("message") or body.get("error")) if isinstance(body, dict) else None
    if not isinstance(detail, str):
        return ""
    # Never trust a server not to echo what it was sent.
    for secret in secrets:
        if secret:
            detail = detail.replace(secret, "***")
    return detail[:_DETAIL_LIMIT]


def _error_class(status: int, *, write: bool, detail: str = "") -> type[errors.ApiError]:
    if status == 423 or (write and status in (401, 403) and _says_locked(detail)):
        return errors.SettingsLocked
    if write and status in (401, 403):
        # A 401 here came after a fresh login that Coursedog accepted: this user may not write.
        return errors.WriteRefused
    if status == 401:
        return errors.Unauthorized
    if status == 403:
        return errors.Forbidden
    if status == 404:
        return errors.NotFound
    if status == 429:
        return errors.RateLimited
    if status >= 500:
        return errors.ServerError
    return errors.ApiError


def _says_locked(detail: str) -> bool:
    """Whether Coursedog's own words say the settings are locked (the term-phases process)."""
    words = detail.lower()
    return "lock" in words or "phase" in words
