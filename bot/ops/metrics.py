"""Prometheus metrics of one running bot, in a registry of its own (never the global one).

Counters and the histogram are fed as things happen (Coursedog calls, Slack errors); the
ledger's figures (windows by state, due and late actions) are read when scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.domain.states import WindowState
from storage import reporting

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
        scheduler_age: Callable[[], float | None],
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
        self.registry.register(_LedgerCollector(sessions, clock, late_after, scheduler_age))

    def coursedog_call(
        self, environment: str, operation: str, outcome: str, seconds: float
    ) -> None:
        """Record one Coursedog operation."""
        self.coursedog_calls.labels(environment, operation, outcome).inc()
        self.coursedog_seconds.labels(environment, operation).observe(seconds)

    def slack_error(self, method: str, error: str) -> None:
        """Record one failed Slack Web API attempt."""
        self.slack_errors.labels(method, error).inc()

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)


class _LedgerCollector(Collector):
    """Reads the ledger at scrape time, so the figures are those of every replica together."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        late_after: timedelta,
        scheduler_age: Callable[[], float | None],
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._late_after = late_after
        self._scheduler_age = scheduler_age

    def collect(self) -> Iterable[Metric]:
        age = self._scheduler_age()
        if age is not None:
            yield GaugeMetricFamily(
                "sis_maint_scheduler_last_pass_age_seconds",
                "Seconds since this process's scheduler last completed a pass",
                value=age,
            )
        now = self._clock.now()
        try:
            with self._sessions.begin() as session:
                counts = reporting.window_counts(session)
                due, late = reporting.due_counts(
                    session, now=now, late_before=now - self._late_after
                )
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
