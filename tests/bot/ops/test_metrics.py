"""GET /metrics: scraped and parsed as Prometheus would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.slack import ids
from coursedog.simulator_faults import Fault
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bot(database_url: str, clock: ManualClock) -> Iterator[Bot]:
    with running_bot(database_url, clock=clock) as running:
        yield running


def scrape(bot: Bot) -> Samples:
    response = bot.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_windows_by_state_and_due_actions_that_are_due_or_late(
    bot: Bot, clock: ManualClock
) -> None:
    samples = scrape(bot)
    assert value(samples, "sis_maint_ledger_up") == 1
    assert value(samples, "sis_maint_windows", state="requested") == 0
    assert ("sis_maint_windows", (("state", "active"),)) in samples  # every state, even at 0

    bot.command(REQUESTER, "schedule prod 2026-12-06 22:00 2h")
    bot.command(REQUESTER, "start staging 1h")
    bot.wait_card(2)
    bot.click(APPROVER, ids.APPROVE, "2")
    assert value(scrape(bot), "sis_maint_due_actions_due") == 1  # the notice to Coursedog
    assert bot.tick() == 1
    samples = scrape(bot)
    assert value(samples, "sis_maint_windows", state="requested") == 1
    assert value(samples, "sis_maint_windows", state="active") == 1
    assert value(samples, "sis_maint_due_actions_due") == 0
    assert value(samples, "sis_maint_due_actions_late") == 0

    # MW-2's end came 10 s ago, its reminder 45 min ago; nobody has run either.
    clock.advance(timedelta(hours=1, seconds=10))
    samples = scrape(bot)
    due = value(samples, "sis_maint_due_actions_due")
    late = value(samples, "sis_maint_due_actions_late")
    assert due >= 2 and 1 <= late < due
    clock.advance(timedelta(minutes=5))
    samples = scrape(bot)
    assert value(samples, "sis_maint_due_actions_late") == value(
        samples, "sis_maint_due_actions_due"
    )

    bot.tick()
    samples = scrape(bot)
    assert value(samples, "sis_maint_due_actions_due") == 0
    assert value(samples, "sis_maint_windows", state="ended") == 1
    assert value(samples, "sis_maint_scheduler_last_pass_age_seconds") < 60


def test_coursedog_calls_by_operation_and_outcome_with_their_latency(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h")
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    samples = scrape(bot)
    reads = value(
        samples,
        "sis_maint_coursedog_calls_total",
        environment="prod",
        operation="read_schedule",
        outcome="ok",
    )
    writes = value(
        samples,
        "sis_maint_coursedog_calls_total",
        environment="prod",
        operation="write_schedule",
        outcome="ok",
    )
    read_backs = value(
        samples,
        "sis_maint_coursedog_calls_total",
        environment="prod",
        operation="read_switches",
        outcome="ok",
    )
    assert reads >= 1 and read_backs >= 1 and writes == 1
    timed = value(
        samples,
        "sis_maint_coursedog_call_duration_seconds_count",
        environment="prod",
        operation="read_schedule",
    )
    assert timed == reads
    assert (
        value(
            samples,
            "sis_maint_coursedog_call_duration_seconds_bucket",
            environment="prod",
            operation="read_schedule",
            le="+Inf",
        )
        == reads
    )

    bot.sim.inject(
        Fault(method="PUT", path_contains="integrationSchedule", kind="status", status=500)
    )
    bot.command(REQUESTER, "end MW-1")
    samples = scrape(bot)
    assert (
        value(
            samples,
            "sis_maint_coursedog_calls_total",
            environment="prod",
            operation="write_schedule",
            outcome="server_error",
        )
        == 1
    )


def test_slack_api_errors_by_method_and_error(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", "channel_not_found")
    bot.command(REQUESTER, "start prod 2h")
    bot.slack.fail("chat.postMessage", "ratelimited", retry_after=0)
    bot.command(REQUESTER, "start staging 1h")
    bot.wait_card(2)
    samples = scrape(bot)
    assert (
        value(
            samples,
            "sis_maint_slack_api_errors_total",
            method="chat.postMessage",
            error="channel_not_found",
        )
        == 1
    )
    assert (
        value(
            samples,
            "sis_maint_slack_api_errors_total",
            method="chat.postMessage",
            error="ratelimited",
        )
        == 1
    )
    # Successful calls (the retried post, the replies) count nowhere.
    assert sum(v for k, v in samples.items() if k[0] == "sis_maint_slack_api_errors_total") == 2


def test_two_bots_in_one_process_keep_their_own_metrics(
    bot: Bot, database_url: str, clock: ManualClock
) -> None:
    with running_bot(database_url, clock=clock) as other:
        bot.command(REQUESTER, "start prod 2h")
        bot.wait_card(1)
        bot.click(APPROVER, ids.APPROVE, "1")
        assert any(k[0] == "sis_maint_coursedog_calls_total" for k in scrape(bot))
        assert not any(k[0] == "sis_maint_coursedog_calls_total" for k in scrape(other))
    assert REGISTRY.get_sample_value("sis_maint_ledger_up") is None


def test_each_background_loops_failures_and_last_pass(bot: Bot) -> None:
    bot.tick()
    samples = scrape(bot)
    for loop in (
        "worker",
        "watchdog",
        "outbox",
        "scheduler",
        "home",
        "listeners",
        "lull",
        "webhooks",
    ):
        assert ("sis_maint_loop_failures_total", (("loop", loop),)) in samples
        assert value(samples, "sis_maint_loop_failures_total", loop=loop) == 0
    assert value(samples, "sis_maint_loop_last_pass_age_seconds", loop="worker") < 60
    assert value(samples, "sis_maint_loop_last_pass_age_seconds", loop="scheduler") < 60

    def broken() -> None:
        raise RuntimeError("boom")

    bot.runtime.later.quietly(broken)  # as an event's work after its acknowledgement might
    assert bot.settle()
    assert value(scrape(bot), "sis_maint_loop_failures_total", loop="listeners") == 1
