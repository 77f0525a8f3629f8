"""Coursedog API client and a local Coursedog simulator; knows nothing of Slack or SQL."""

from coursedog.client import CoursedogClient
from coursedog.contract import WriteContract
from coursedog.errors import (
    ApiError,
    BadResponse,
    CoursedogError,
    Forbidden,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ScheduleNotLearned,
    ServerError,
    SettingsLocked,
    TransportError,
    Unauthorized,
    UnrecognisedSchedule,
    WriteRefused,
)
from coursedog.models import ALL_OFF, MergeRun, Schedule, ScheduleSnapshot
from coursedog.retry import RetryPolicy
from coursedog.wire import ENDPOINTS, WireConfig

__all__ = [
    "ALL_OFF",
    "ENDPOINTS",
    "ApiError",
    "BadResponse",
    "CoursedogClient",
    "CoursedogError",
    "Forbidden",
    "MergeRun",
    "NotFound",
    "OutcomeUnknown",
    "RateLimited",
    "RetryPolicy",
    "Schedule",
    "ScheduleNotLearned",
    "ScheduleSnapshot",
    "ServerError",
    "SettingsLocked",
    "TransportError",
    "Unauthorized",
    "UnrecognisedSchedule",
    "WireConfig",
    "WriteContract",
    "WriteRefused",
]
