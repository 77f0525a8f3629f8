"""Where the metrics are taken: around a Coursedog client and inside the Slack client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.ops.instruments import MeteredCoursedog, SlackErrorCounter, outcome_of
from bot.ops.metrics import Metrics
from coursedog import errors
from coursedog.models import Schedule, ScheduleSnapshot
from storage.db import make_engine, make_sessions
from tests.harness import ManualClock


@pytest.fixture
def metrics() -> Metrics:
    # The ledger is empty and unmigrated: these tests read only the counters.
    sessions = make_sessions(make_engine("sqlite://"))
    return Metrics(sessions, ManualClock(), late_after=timedelta(minutes=1), loops=())


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


class FakeApi:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.closed = False
        self.written: list[tuple[Schedule, ScheduleSnapshot | None]] = []

    def read_schedule(self) -> ScheduleSnapshot:
        if self.error is not None:
            raise self.error
        return ScheduleSnapshot(schedule=Schedule(nightly=True, realtime=False), save_state_id="s1")

    def read_switches(self) -> Schedule:
        return Schedule(nightly=False, realtime=False)

    def write_schedule(self, schedule: Schedule, *, over: ScheduleSnapshot | None = None) -> None:
        self.written.append((schedule, over))

    def post_activity_comment(self, text: str) -> None:
        raise NotImplementedError

    def merge_history(self, schedule_type: str, size: int = 5) -> list[object]:
        return []

    def merge_report_url(self, report_id: str) -> str:
        return f"https://example.edu/{report_id}"

    def close(self) -> None:
        self.closed = True


def test_outcomes_name_the_coursedog_error_kind() -> None:
    assert outcome_of(errors.ServerError("x", status=500)) == "server_error"
    assert outcome_of(errors.RateLimited("x", status=429, retry_after=1.0)) == "rate_limited"
    assert outcome_of(errors.OutcomeUnknown("x")) == "outcome_unknown"
    assert outcome_of(KeyError("x")) == "error"


def test_a_metered_client_counts_times_and_passes_everything_through(metrics: Metrics) -> None:
    ticks = iter([10.0, 10.25, 20.0, 23.0])
    api = FakeApi()
    metered = MeteredCoursedog(api, "prod", metrics, timer=lambda: next(ticks))
    assert metered.read_schedule().save_state_id == "s1"
    api.error = errors.ServerError("boom", status=503)
    with pytest.raises(errors.ServerError):
        metered.read_schedule()
    assert metered.merge_report_url("r1") == "https://example.edu/r1"  # no call, not counted
    metered.close()
    assert api.closed
    calls = "sis_maint_coursedog_calls_total"
    assert sample(metrics, calls, environment="prod", operation="read_schedule", outcome="ok") == 1
    assert (
        sample(
            metrics, calls, environment="prod", operation="read_schedule", outcome="server_error"
        )
        == 1
    )
    seconds = "sis_maint_coursedog_call_duration_seconds"
    assert sample(metrics, f"{seconds}_sum", environment="prod", operation="read_schedule") == 3.25
    assert "merge_report_url" not in generate_latest(metrics.registry).decode()


def test_a_metered_client_passes_the_snapshot_to_write_over(metrics: Metrics) -> None:
    api = FakeApi()
    metered = MeteredCoursedog(api, "prod", metrics)
    snapshot = metered.read_schedule()
    assert metered.read_switches() == Schedule(nightly=False, realtime=False)
    metered.write_schedule(Schedule(nightly=False, realtime=False), over=snapshot)
    assert api.written == [(Schedule(nightly=False, realtime=False), snapshot)]
    calls = "sis_maint_coursedog_calls_total"
    for operation in ("read_schedule", "read_switches", "write_schedule"):
        assert sample(metrics, calls, environment="prod", operation=operation, outcome="ok") == 1


@pytest.mark.parametrize(
    ("response", "error", "counted"),
    [
        (HttpResponse(status_code=200, headers={}, body={"ok": True}), None, None),
        (
            HttpResponse(
                status_code=200, headers={}, body={"ok": False, "error": "not_in_channel"}
            ),
            None,
            "not_in_channel",
        ),
        (
            HttpResponse(
                status_code=429, headers={}, data=b'{"ok": false, "error": "ratelimited"}'
            ),
            None,
            "ratelimited",
        ),
        (
            HttpResponse(status_code=502, headers={}, data=b"<html>bad gateway</html>"),
            None,
            "http_502",
        ),
        (None, ConnectionResetError("reset"), "ConnectionResetError"),
    ],
)
def test_slack_errors_are_counted_by_method_and_never_retried(
    metrics: Metrics, response: HttpResponse | None, error: Exception | None, counted: str | None
) -> None:
    counter = SlackErrorCounter(metrics)
    request = HttpRequest(method="POST", url="https://slack.com/api/chat.postMessage", headers={})
    assert (
        counter.can_retry(state=RetryState(), request=request, response=response, error=error)
        is False
    )
    total = sum(
        s.value
        for family in metrics.registry.collect()
        if family.name == "sis_maint_slack_api_errors"
        for s in family.samples
        if s.name.endswith("_total")
    )
    if counted is None:
        assert total == 0
    else:
        assert total == 1
        assert (
            sample(
                metrics,
                "sis_maint_slack_api_errors_total",
                method="chat.postMessage",
                error=counted,
            )
            == 1
        )
