"""The operator's HTTP routes: GET /healthz, GET /metrics, and the calendar feed.

The feed lives at ``/calendar/<token>.ics`` (every environment) and
``/calendar/<token>/<environment>.ics``. A wrong or missing token, an unknown environment and
a feed that is switched off all answer the same 404, so the URL reveals nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from bot.ops.feed import CalendarFeed
from bot.ops.health import Health
from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
Headers = list[tuple[str, str]]
CALENDAR_PREFIX = "/calendar/"
ICS = ".ics"


@dataclass(frozen=True)
class Answer:
    """A status line, headers and a body."""

    status: str
    headers: Headers
    body: bytes = b""


_NO_STORE = ("Cache-Control", "no-store")
NOT_FOUND = Answer("404 Not Found", [("Content-Type", "text/plain")], b"not found\n")


@dataclass
class Ops:
    """The operator's view of one running bot, served as a WSGI application."""

    health: Health
    metrics: Metrics
    feed: CalendarFeed

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request (404 for any path that is not an operator route)."""
        method = environ.get("REQUEST_METHOD", "GET")
        answer = self.answer(environ.get("PATH_INFO", ""), method, environ)
        headers = answer.headers
        if not answer.status.startswith("304"):
            headers = [*headers, ("Content-Length", str(len(answer.body)))]
        start_response(answer.status, headers)
        return [b""] if method == "HEAD" else [answer.body]

    def answer(self, path: str, method: str, environ: dict[str, Any]) -> Answer:
        """The answer to ``method path``."""
        if method not in ("GET", "HEAD"):
            return NOT_FOUND
        if path == "/healthz":
            return self._health()
        if path == "/metrics":
            return Answer(
                "200 OK", [("Content-Type", CONTENT_TYPE_LATEST)], self.metrics.exposition()
            )
        if path.startswith(CALENDAR_PREFIX) and path.endswith(ICS):
            return self._calendar(path[len(CALENDAR_PREFIX) : -len(ICS)], environ)
        return NOT_FOUND

    def _health(self) -> Answer:
        report = self.health.report()
        status = "200 OK" if report.healthy else "503 Service Unavailable"
        if not report.healthy:
            log.warning("health check failing: %s", ", ".join(report.failing))
        body = json.dumps(report.as_json()).encode()
        return Answer(status, [("Content-Type", "application/json"), _NO_STORE], body)

    def _calendar(self, rest: str, environ: dict[str, Any]) -> Answer:
        token, _, name = rest.partition("/")
        if not self.feed.authorized(token):
            return NOT_FOUND
        environment = None
        if name:
            environment = self.feed.environment(name)
            if environment is None:
                return NOT_FOUND
        body = self.feed.render(environment)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("ETag", etag),
            ("Cache-Control", "private, no-cache"),
            ("Content-Disposition", f'inline; filename="{environment or "sis-maint"}.ics"'),
        ]
        if etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            return Answer("304 Not Modified", headers)
        return Answer("200 OK", headers, body)
