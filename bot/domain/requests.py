"""Checking a request form: which fields are missing or do not fit, field by field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.durations import parse_duration
from bot.domain.plain import check_text
from bot.errors import InputError

MAX_REASON = 500
MAX_TICKET = 200
LATEST = 4_102_444_800  # 2100-01-01, in Unix seconds


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
    """Raise InputError(field=...) for the first field that cannot be used."""
    if not form.environments:
        raise InputError("Pick at least one environment.", field="environments")
    starts_at: datetime | None = None
    if not form.start_now:
        if form.start is None:
            raise InputError("Pick the start date and time.", field="start")
        starts_at = _instant(form.start, "start")
    length, end = form.length.strip(), form.end
    if length and end is not None:
        raise InputError("Give a duration or an end time, not both.", field="duration")
    if not length and end is None:
        raise InputError("Say how long, e.g. `2h`, or pick an end time.", field="duration")
    ends_at: datetime | None = None
    if length:
        try:
            duration = parse_duration(length)
        except InputError as exc:
            raise InputError(str(exc), field="duration") from None
    else:
        assert end is not None
        ends_at = _instant(end, "end")
        if starts_at is None:
            raise InputError(
                "An end time needs a start time; for “as soon as approved” give a duration.",
                field="end",
            )
        duration = ends_at - starts_at
        if duration <= timedelta(0):
            raise InputError("The end must be after the start.", field="end")
    check_text(form.reason, "reason", "reason")
    check_text(form.ticket, "ticket", "ticket")
    if len(form.reason) > MAX_REASON:
        raise InputError(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    if len(form.ticket) > MAX_TICKET:
        raise InputError(f"Keep the ticket under {MAX_TICKET} characters.", field="ticket")
    return CheckedRequest(
        environments=form.environments,
        starts_at=starts_at,
        ends_at=ends_at,
        duration=duration,
        reason=form.reason.strip(),
        ticket=form.ticket.strip() or None,
    )


def _instant(seconds: int, field: str) -> datetime:
    """A date picker's Unix seconds as an instant; refuse what no picker sends."""
    if not 0 < seconds < LATEST:
        raise InputError(f"Pick a {field} date between 1970 and 2100.", field=field)
    return datetime.fromtimestamp(seconds, UTC)
