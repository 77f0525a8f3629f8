"""The webhook sender: its own background loop, so a slow or dead endpoint never holds up a
switch. Each pass fans new events out to the endpoints, makes the attempts that are due (a
bounded batch, each with the configured timeout), and says once in the approvals channel when
an endpoint goes down or comes back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from bot import crashpoint
from bot.domain.webhooks import signed_headers
from bot.loops import BackgroundLoop
from bot.services.webhook_ledger import WebhookLedger
from bot.slack.webhook_notices import endpoint_back, endpoint_down
from storage.webhooks import Claimed

log = logging.getLogger(__name__)
BATCH = 20  # attempts per pass: a pass of timeouts stays bounded
PURGE_EVERY = 3600.0  # seconds between purges of events long delivered


@dataclass(frozen=True)
class Endpoint:
    """Where one endpoint's requests go, and the secret that signs them."""

    url: str
    secret: SecretStr


# Post a notice in the approvals channel once per key; True once Slack has it.
Tell = Callable[[str, str], bool]


class HideEndpointUrls(logging.Filter):
    """httpx logs every request's URL; an endpoint's (Teams' and Statuspage's carry tokens)
    is logged as ``webhook <name>`` instead."""

    def __init__(self, endpoints: Mapping[str, Endpoint]) -> None:
        super().__init__()
        self._names = {str(httpx.URL(e.url)): name for name, e in endpoints.items()}

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace an endpoint's URL in a record's arguments by its name."""
        if isinstance(record.args, tuple) and any(str(a) in self._names for a in record.args):
            record.args = tuple(
                f"webhook {self._names[str(a)]}" if str(a) in self._names else a
                for a in record.args
            )
        return True


class WebhookSender(BackgroundLoop):
    """Delivers webhook events from the ledger, with retries, on its own thread."""

    thread_name = "sis-maint-webhooks"

    def __init__(
        self,
        ledger: WebhookLedger,
        endpoints: Mapping[str, Endpoint],
        tell: Tell,
        *,
        interval: float,
        timeout: float,
        http: httpx.Client | None = None,
        unix_time: Callable[[], float] = time.time,
    ) -> None:
        super().__init__("webhooks", interval)
        self._ledger = ledger
        self._endpoints = dict(endpoints)
        self._tell = tell
        self._timeout = timeout
        self._http = http or httpx.Client(follow_redirects=False)
        self._unix_time = unix_time
        self._hide = HideEndpointUrls(self._endpoints)
        self._purged: float | None = None

    def start(self) -> None:
        """Keep the endpoints' URLs out of httpx's log, then start the loop."""
        logging.getLogger("httpx").addFilter(self._hide)
        super().start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop, then close its HTTP client."""
        super().stop(timeout)
        self._http.close()
        logging.getLogger("httpx").removeFilter(self._hide)

    def run_once(self) -> int:
        """One pass; returns how many attempts it claimed."""
        self._purge_now_and_then()
        attempts = self._attempts_due()
        failed: set[str] = set()  # endpoints whose earlier event failed in this pass
        later = []
        for attempt in attempts:
            if attempt.endpoint in failed:
                later.append(attempt)  # kept for after the one that failed: in order
            elif not self._deliver(attempt):
                failed.add(attempt.endpoint)
            self.heartbeat.progressed()
        self._ledger.release(later)
        for news in self._ledger.untold():
            text = (
                endpoint_down(news.endpoint, news.failing, news.last_error)
                if news.down
                else endpoint_back(news.endpoint)
            )
            if self._tell(f"webhook:{news.endpoint}:{news.key}", text):
                self._ledger.told(news)
        return len(attempts)

    def _attempts_due(self) -> list[Claimed]:
        if not self._ledger.anything_to_do():
            return []
        self._ledger.fan_out()
        return self._ledger.claim(BATCH)

    def _purge_now_and_then(self) -> None:
        now = time.monotonic()
        if self._purged is None or now - self._purged >= PURGE_EVERY:
            self._purged = now
            self._ledger.purge()

    def _step(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._stopping, self.interval)
            if self._stopping:
                return
        while self.run_once() == BATCH and not self._stopping:
            pass  # more are due: no wait between full batches

    def _deliver(self, attempt: Claimed) -> bool:
        """Make one attempt; whether the endpoint took it."""
        endpoint = self._endpoints.get(attempt.endpoint)
        if endpoint is None:
            self._ledger.dropped(attempt)
            return True
        body = attempt.body.encode()
        stamp = int(self._unix_time())
        secret = endpoint.secret.get_secret_value()
        headers = signed_headers(secret, attempt.event_id, stamp, body)
        crashpoint.reached("webhook")
        try:
            answer = self._http.post(
                endpoint.url, content=body, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:  # the URL may hold a token: only the kind is kept
            self._ledger.failed(attempt, type(exc).__name__)
            return False
        if 200 <= answer.status_code < 300:
            crashpoint.reached("webhook_sent")
            self._ledger.delivered(attempt)
            return True
        self._ledger.failed(attempt, f"HTTP {answer.status_code}")
        return False
