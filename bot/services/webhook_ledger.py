"""The ledger side of delivering webhooks: fanning events out to the endpoints, claiming due
attempts, and recording what each attempt came to. Each call is one short transaction.

A failed attempt is tried again after an exponential backoff with jitter
(bot.domain.webhooks.retry_delay), until ``max_attempts`` were made or the event is
``give_up_after`` old; then it is given up (logged, kept with its last error). Every failed
attempt counts against its endpoint: ``report_after`` in a row make it down, which is said
once, and once more when an attempt succeeds again (``untold``, ``told``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config import WebhookConfig, WebhookDeliveryConfig
from bot.domain.webhooks import retry_delay
from storage import webhooks
from storage.db import reading
from storage.webhooks import Claimed, DeliveryStatus

log = logging.getLogger(__name__)
# Well past the request's own timeout (it bounds each phase of the request, not the whole),
# a claimed attempt whose sender died is made again.
HOLD_TIMEOUTS, HOLD_MARGIN = 3, timedelta(seconds=5)


@dataclass(frozen=True)
class News:
    """Something to say about an endpoint: it is down (``down``), or back."""

    endpoint: str
    down: bool
    key: str  # "down:<episode>" or "up:<episode>"
    failing: int
    last_error: str | None


class WebhookLedger:
    """Deliveries and endpoints in the ledger, for the sender (bot.jobs.webhooks)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        endpoints: Sequence[WebhookConfig],
        delivery: WebhookDeliveryConfig,
        *,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._endpoints = list(endpoints)
        self._delivery = delivery
        self._draw = draw

    def anything_to_do(self) -> bool:
        """Whether a pass has events to fan out or attempts to make."""
        with reading(self._sessions) as session:
            return webhooks.anything_to_do(session, self._clock.now())

    def purge(self) -> int:
        """Forget events delivered (or given up) longer than ``keep`` ago."""
        with self._sessions.begin() as session:
            return webhooks.purge(session, self._clock.now() - self._delivery.keep)

    def fan_out(self) -> int:
        """A delivery for each endpoint that wants each new event; how many events there were."""
        with self._sessions.begin() as session:
            return webhooks.fan_out(session, self._wanting, self._clock.now())

    def claim(self, limit: int) -> list[Claimed]:
        """Due attempts, each held past the request's timeout."""
        hold = HOLD_TIMEOUTS * timedelta(seconds=self._delivery.timeout_seconds) + HOLD_MARGIN
        with self._sessions.begin() as session:
            return webhooks.claim_due(session, self._clock.now(), hold, limit)

    def delivered(self, attempt: Claimed) -> None:
        """The endpoint took the event (2xx)."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            webhooks.settle(session, attempt.id, DeliveryStatus.DELIVERED, now, None)
            if webhooks.good_attempt(session, attempt.endpoint, now):
                log.warning("webhook endpoint %s takes events again", attempt.endpoint)

    def failed(self, attempt: Claimed, error: str) -> None:
        """The attempt failed with ``error`` (no URL, no secret in it): retry later, or give up."""
        now, policy = self._clock.now(), self._delivery
        with self._sessions.begin() as session:
            too_old = now - attempt.created_at >= policy.give_up_after
            if attempt.attempts >= policy.max_attempts or too_old:
                webhooks.settle(session, attempt.id, DeliveryStatus.GIVEN_UP, now, error)
                log.error(
                    "webhook %s to %s given up after %d attempt(s): %s",
                    attempt.event_id,
                    attempt.endpoint,
                    attempt.attempts,
                    error,
                )
            else:
                wait = retry_delay(
                    attempt.attempts,
                    first=policy.first_retry_seconds,
                    cap=policy.max_retry_seconds,
                    draw=self._draw,
                )
                webhooks.retry_at(session, attempt.id, now + timedelta(seconds=wait), error)
            went_down = webhooks.failed_attempt(
                session, attempt.endpoint, error, now, down_after=policy.report_after
            )
        if went_down:
            log.error("webhook endpoint %s is down: %s", attempt.endpoint, error)

    def release(self, attempts: Sequence[Claimed]) -> None:
        """Claimed attempts not made (an earlier event for their endpoint failed first)."""
        if not attempts:
            return
        with self._sessions.begin() as session:
            for attempt in attempts:
                webhooks.release(session, attempt.id, self._clock.now())

    def dropped(self, attempt: Claimed) -> None:
        """The delivery's endpoint is no longer configured: it is given up."""
        with self._sessions.begin() as session:
            webhooks.settle(
                session,
                attempt.id,
                DeliveryStatus.GIVEN_UP,
                self._clock.now(),
                "the endpoint is no longer configured",
            )

    def untold(self) -> list[News]:
        """What has not been said yet about endpoints going down or coming back."""
        with reading(self._sessions) as session:
            return [
                News(row.name, row.down, webhooks.news(row), row.failing, row.last_error)
                for row in webhooks.untold(session)
            ]

    def told(self, news: News) -> None:
        """``news`` was posted."""
        with self._sessions.begin() as session:
            webhooks.mark_told(session, news.endpoint, news.key)

    def counts(self) -> dict[str, int]:
        """Deliveries by status (for /metrics)."""
        with reading(self._sessions) as session:
            return webhooks.counts(session)

    def _wanting(self, event_type: str) -> list[str]:
        return [hook.name for hook in self._endpoints if hook.wants(event_type)]
