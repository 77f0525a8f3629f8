"""Checking a request form: every field that is missing or does not fit, all at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bot.domain.durations import parse_duration
from bot.domain.plain import check_text
from bot.errors import FieldErrors, InputError

MAX_REASON = 500
MAX_TICKET = 200
LATEST = 4_102_444_800  # 2100-01-01, in Unix seconds
_T = TypeVar("_T")
_Timing = tuple[datetime | None, timedelta]  # (end time if one was picked, duration)


@dataclass(frozen=True)
class RequestForm:
    """What the form sent, before any checking."""

    environments: tuple[str, ...]
    start_now: bool
    start: int | None  # Unix seconds from the date-time picker
    length: str
    end: int | None
    reason: str
    ticket: str


@dataclass(frozen=True)
class CheckedRequest:
    """A request whose fields make sense together (policy is checked by the service)."""

    environments: tuple[str, ...]
    starts_at: datetime | None
    ends_at: datetime | None
    duration: timedelta
    reason: str
    ticket: str | None


def check_request(form: RequestForm) -> CheckedRequest:
    """Check every field; raise FieldErrors naming each one that cannot be used, in form order."""
    problems: dict[str, str] = {}
    if not form.environments:
        problems["environments"] = "Pick at least one environment."
    starts_at = _noted(problems, lambda: _start(form))
    timing = _noted(problems, lambda: _timing(form, starts_at))
    _noted(problems, lambda: _text(form.reason, "reason", MAX_REASON))
    _noted(problems, lambda: _text(form.ticket, "ticket", MAX_TICKET))
    if problems or timing is None:
        raise FieldErrors(problems)
    ends_at, duration = timing
    return CheckedRequest(
        environments=form.environments,
        starts_at=starts_at,
        ends_at=ends_at,
        duration=duration,
        reason=form.reason.strip(),
        ticket=form.ticket.strip() or None,
    )


def _noted(problems: dict[str, str], check: Callable[[], _T]) -> _T | None:
    """``check()``'s result, or None with its InputError noted against its field."""
    try:
        return check()
    except InputError as exc:
        assert exc.field is not None, exc
        problems.setdefault(exc.field, str(exc))
        return None


def _start(form: RequestForm) -> datetime | None:
    """The chosen start instant; None for a start as soon as an approver agrees."""
    if form.start_now:
        return None
    if form.start is None:
        raise InputError("Pick the start date and time.", field="start")
    return _instant(form.start, "start")


def _timing(form: RequestForm, starts_at: datetime | None) -> _Timing | None:
    """(end, duration) from a duration or an end time; None when the start they need is wrong."""
    length, end = form.length.strip(), form.end
    if length and end is not None:
        raise InputError("Give a duration or an end time, not both.", field="duration")
    if not length and end is None:
        raise InputError("Say how long, e.g. `2h`, or pick an end time.", field="duration")
    if length:
        try:
            return None, parse_duration(length)
        except InputError as exc:
            raise InputError(str(exc), field="duration") from None
    assert end is not None
    ends_at = _instant(end, "end")
    if form.start_now:
        raise InputError(
            "An end time needs a start time; for “as soon as approved” give a duration.",
            field="end",
        )
    if starts_at is None:
        return None  # the start's own problem is already noted
    duration = ends_at - starts_at
    if duration <= timedelta(0):
        raise InputError("The end must be after the start.", field="end")
    return ends_at, duration


def _text(value: str, field: str, limit: int) -> None:
    """A reason or ticket: printable, and short enough."""
    check_text(value, field, field)
    if len(value) > limit:
        raise InputError(f"Keep the {field} under {limit} characters.", field=field)


def _instant(seconds: int, field: str) -> datetime:
    """A date picker's Unix seconds as an instant; refuse what no picker sends."""
    if not 0 < seconds < LATEST:
        raise InputError(f"Pick a {field} date between 1970 and 2100.", field=field)
    return datetime.fromtimestamp(seconds, UTC)
