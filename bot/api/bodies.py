"""What callers send: each body validated whole, every refusal naming its field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from bot.domain.durations import parse_duration
from bot.domain.grammar import MAX_REASON, resolve_environments
from bot.domain.plain import check_text
from bot.errors import InputError

MAX_TICKET = 100


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CreateBody(_Body):
    """POST /api/v1/windows."""

    environments: list[str] = Field(min_length=1, max_length=20)
    duration: str | None = Field(default=None, max_length=20)
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    reason: str = Field(default="", max_length=MAX_REASON)
    ticket: str | None = Field(default=None, min_length=1, max_length=MAX_TICKET)
    approval: Literal["slack", "ticket"] = "slack"


class ExtendBody(_Body):
    """POST /api/v1/windows/{id}/extend."""

    by: str = Field(max_length=20)


class EmptyBody(_Body):
    """POST /api/v1/windows/{id}/end and /cancel: nothing, or ``{}``."""


@dataclass(frozen=True)
class Create:
    """A request to record, read from a CreateBody."""

    environments: tuple[str, ...]
    duration: timedelta
    reason: str
    ticket: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    by_ticket: bool


M = TypeVar("M", bound="_Body")


def validated(model: type[M], data: Any) -> M:
    """``data`` as ``model``; the first problem raised as an InputError naming its field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or None
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"{field} is not a field of this request"
        elif err["type"] == "missing":
            message = f"{field} is required"
        elif field:
            message = f"{field}: {message}"
        raise InputError(message, field=field) from None


def read_create(body: CreateBody, known: Mapping[str, str]) -> Create:
    """The request a create body asks for: environments resolved (aliases too), times checked
    for shape here and against policy by the service."""
    try:
        environments = resolve_environments(",".join(body.environments), known)
    except InputError as exc:
        raise InputError(str(exc).replace("`", ""), field="environments") from None
    check_text(body.reason, "reason", field="reason")
    check_text(body.ticket or "", "ticket", field="ticket")
    if body.start is None:
        if body.end is not None:
            raise InputError(
                "end needs start; for a window from approval give duration", field="end"
            )
        if body.duration is None:
            raise InputError("duration is required when start is not given", field="duration")
    elif (body.end is None) == (body.duration is None):
        raise InputError("give either end or duration with start, not both", field="duration")
    duration = _duration(body.duration) if body.duration is not None else timedelta(0)
    starts_at = body.start
    ends_at = body.end
    if starts_at is not None and ends_at is None:
        ends_at = starts_at + duration
    if starts_at is not None and ends_at is not None:
        duration = ends_at - starts_at
    return Create(
        environments=environments,
        duration=duration,
        reason=body.reason,
        ticket=body.ticket,
        starts_at=starts_at,
        ends_at=ends_at,
        by_ticket=body.approval == "ticket",
    )


def read_extend(body: ExtendBody) -> timedelta:
    """How much later the window is to end."""
    return _duration(body.by, field="by")


def _duration(text: str, field: str = "duration") -> timedelta:
    try:
        return parse_duration(text)
    except InputError as exc:
        raise InputError(str(exc).replace("`", ""), field=field) from None
