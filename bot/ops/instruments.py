"""Where the metrics are taken: around each Coursedog client, and inside the Slack client."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.ops.metrics import Metrics
from bot.services.schedule_api import ScheduleApi
from coursedog.errors import CoursedogError
from coursedog.models import MergeRun, Schedule, ScheduleSnapshot

T = TypeVar("T")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def outcome_of(error: BaseException) -> str:
    """``ok``'s counterpart: the Coursedog error's kind (``server_error``), else ``error``."""
    if isinstance(error, CoursedogError):
        return _SNAKE.sub("_", type(error).__name__).lower()
    return "error"


class MeteredCoursedog:
    """A Coursedog client that counts and times every operation; otherwise the same client."""

    def __init__(
        self,
        inner: ScheduleApi,
        environment: str,
        metrics: Metrics,
        *,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._inner = inner
        self._environment = environment
        self._metrics = metrics
        self._timer = timer

    def read_schedule(self) -> ScheduleSnapshot:
        """Read both switches and the enabled saved state."""
        return self._timed("read_schedule", self._inner.read_schedule)

    def read_switches(self) -> Schedule:
        """Read both switches only."""
        return self._timed("read_switches", self._inner.read_switches)

    def write_schedule(self, schedule: Schedule, *, over: ScheduleSnapshot | None = None) -> None:
        """Write both switches, over the snapshot just read if there is one."""
        self._timed("write_schedule", lambda: self._inner.write_schedule(schedule, over=over))

    def post_activity_comment(self, text: str) -> None:
        """Comment on the Merge Settings Activity tab."""
        self._timed("post_activity_comment", lambda: self._inner.post_activity_comment(text))

    def merge_history(self, schedule_type: str, size: int = 5) -> list[MergeRun]:
        """The latest merges of one schedule type."""
        return self._timed("merge_history", lambda: self._inner.merge_history(schedule_type, size))

    def merge_report_url(self, report_id: str) -> str:
        """A link (no call is made)."""
        return self._inner.merge_report_url(report_id)

    def close(self) -> None:
        """Close the client underneath, if it can be closed."""
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    def _timed(self, operation: str, call: Callable[[], T]) -> T:
        started = self._timer()
        outcome = "ok"
        try:
            return call()
        except BaseException as exc:
            outcome = outcome_of(exc)
            raise
        finally:
            elapsed = self._timer() - started
            self._metrics.coursedog_call(self._environment, operation, outcome, elapsed)


class SlackErrorCounter(RetryHandler):
    """Counts each failed Slack Web API attempt by method and error; never asks for a retry.

    The Web API client consults its retry handlers after every attempt, and Bolt copies them
    into the client it makes for each request, so this sees the calls of every listener too.
    It must come first in ``retry_handlers``: the client stops asking after one says yes.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Record the attempt if it failed; always False."""
        problem = _slack_error(response, error)
        if problem is not None:
            method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            self._metrics.slack_error(method, problem)
        return False


def _slack_error(response: HttpResponse | None, error: Exception | None) -> str | None:
    if response is None:
        return type(error).__name__ if error is not None else None
    body = response.body if response.body is not None else _decode(response.data)
    if body.get("ok") is False and isinstance(body.get("error"), str):
        return str(body["error"])[:64]
    if response.status_code == 429:
        return "ratelimited"
    if response.status_code >= 400:
        return f"http_{response.status_code}"
    return None


def _decode(data: bytes | None) -> dict[str, Any]:
    try:
        parsed = json.loads(data or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
