"""Prometheus metrics of one running bot, in a registry of its own (never the global one).

Counters and the histogram are fed as things happen (Coursedog calls, Slack errors); the
ledger's figures (windows by state, due and late actions) and the background loops' heartbeats
are read when scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.domain.states import WindowState
from bot.loops import Heartbeat
from storage import reporting, webhooks
from storage.webhooks import DeliveryStatus

log = logging.getLogger(__name__)

# Coursedog calls include bounded retries with backoff, so the buckets reach a minute.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The bot's metrics; ``exposition()`` is what GET /metrics serves."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        late_after: timedelta,
        loops: Iterable[Heartbeat],
    ) -> None:
        self.registry = CollectorRegistry()
        self.coursedog_calls = Counter(
            "sis_maint_coursedog_calls",
            "Coursedog API operations by environment, operation and outcome (ok or the error)",
            ["environment", "operation", "outcome"],
            registry=self.registry,
        )
        self.coursedog_seconds = Histogram(
            "sis_maint_coursedog_call_duration_seconds",
            "Time a Coursedog API operation took, retries included",
            ["environment", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "sis_maint_slack_api_errors",
            "Slack Web API calls that failed, by method and Slack's error (each attempt)",
            ["method", "error"],
            registry=self.registry,
        )
        self.home_publishes = Counter(
            "sis_maint_home_publishes",
            "App Home tabs rendered for one person: published, unchanged (not sent again) or "
            "failed",
            ["outcome"],
            registry=self.registry,
        )
        self.home_viewer_count = Gauge(
            "sis_maint_home_viewers",
            "People whose App Home this process keeps current",
            registry=self.registry,
        )
        self.registry.register(_LoopCollector(loops))
        self.registry.register(_LedgerCollector(sessions, clock, late_after))

    def coursedog_call(
        self, environment: str, operation: str, outcome: str, seconds: float
    ) -> None:
        """Record one Coursedog operation."""
        self.coursedog_calls.labels(environment, operation, outcome).inc()
        self.coursedog_seconds.labels(environment, operation).observe(seconds)

    def slack_error(self, method: str, error: str) -> None:
        """Record one failed Slack Web API attempt."""
        self.slack_errors.labels(method, error).inc()

    def home_published(self, outcome: str) -> None:
        """One person's App Home: ``published``, ``unchanged`` or ``failed``."""
        self.home_publishes.labels(outcome).inc()

    def home_viewers(self, count: int) -> None:
        """How many people the App Home refresher keeps current."""
        self.home_viewer_count.set(count)

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)


class _LoopCollector(Collector):
    """Reads this process's background loops' heartbeats at scrape time."""

    def __init__(self, loops: Iterable[Heartbeat]) -> None:
        self._loops = loops

    def collect(self) -> Iterable[Metric]:
        failures = CounterMetricFamily(
            "sis_maint_loop_failures",
            "Passes of a background loop that failed (each logged), by loop",
            labels=["loop"],
        )
        ages = GaugeMetricFamily(
            "sis_maint_loop_last_pass_age_seconds",
            "Seconds since a background loop last completed a pass, by loop",
            labels=["loop"],
        )
        scheduler: float | None = None
        for pulse in (beat.read() for beat in self._loops):
            failures.add_metric([pulse.name], pulse.failures)
            if pulse.last_pass_ago is not None:
                ages.add_metric([pulse.name], pulse.last_pass_ago)
                if pulse.name == "scheduler":
                    scheduler = pulse.last_pass_ago
        yield failures
        yield ages
        if scheduler is not None:
            yield GaugeMetricFamily(
                "sis_maint_scheduler_last_pass_age_seconds",
                "Seconds since this process's scheduler last completed a pass",
                value=scheduler,
            )


class _LedgerCollector(Collector):
    """Reads the ledger at scrape time, so the figures are those of every replica together."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, late_after: timedelta
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._late_after = late_after

    def collect(self) -> Iterable[Metric]:
        now = self._clock.now()
        try:
            with self._sessions.begin() as session:
                counts = reporting.window_counts(session)
                due, late = reporting.due_counts(
                    session, now=now, late_before=now - self._late_after
                )
                hooks = webhooks.counts(session)
        except SQLAlchemyError:
            log.warning("metrics: the ledger cannot be read", exc_info=True)
            yield GaugeMetricFamily("sis_maint_ledger_up", "Whether the ledger answered", value=0)
            return
        yield GaugeMetricFamily("sis_maint_ledger_up", "Whether the ledger answered", value=1)
        windows = GaugeMetricFamily("sis_maint_windows", "Windows by state", labels=["state"])
        for state in WindowState:
            windows.add_metric([state.value], counts.get(state.value, 0))
        yield windows
        yield GaugeMetricFamily(
            "sis_maint_due_actions_due",
            "Due actions whose time has come and that no process has finished",
            value=due,
        )
        yield GaugeMetricFamily(
            "sis_maint_due_actions_late",
            f"Due actions still waiting more than {int(self._late_after.total_seconds())}s "
            "after their time",
            value=late,
        )
        deliveries = GaugeMetricFamily(
            "sis_maint_webhook_deliveries",
            "Webhook deliveries by status (pending: owed, retried with backoff)",
            labels=["status"],
        )
        for status in DeliveryStatus:
            deliveries.add_metric([status.value], hooks.get(status.value, 0))
        yield deliveries
