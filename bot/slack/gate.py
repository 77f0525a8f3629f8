"""The front door of HTTP mode: every request to /slack/events passes here before Bolt.

In this order: a body over ``MAX_BODY_BYTES`` is refused with 413 before it is read; a
missing, forged or stale signature (five minutes) with 401, the signature itself checked by
slack_sdk's ``SignatureVerifier``; a body that is not a well-formed Slack request with 400 (Slack
signs text, so a body that is not UTF-8 is refused as such once its timestamp has passed). Every
refusal is logged with its reason. What passes reaches Bolt as the parsed document (JSON), so
Bolt never parses a raw body itself; Bolt's own signature check is off because this one has
already run.

A signature stays valid for five minutes, so a copy of a request sent within them passes too.
Bolt handles each request under its replay key (a hash of its signature): the first of the
copies to write to the ledger claims the key with that write, and the others act not at all
(see storage.replay). Copies of a request that only reads are answered like the first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import Clock, SignatureVerifier

from bot.slack.envelope import MalformedRequest, body_text, check_envelope, parse_body
from storage.replay import acting_once

log = logging.getLogger(__name__)

_BOLT_LOG = logging.getLogger("slack_bolt.App")
MAX_BODY_BYTES = 1 << 20  # Slack's largest payloads (a full modal's state) are far smaller
MAX_SKEW_SECONDS = 300
# A replay key outlives its signature's window by this much, for replicas whose clocks differ.
REPLAY_MARGIN_SECONDS = 60
StartResponse = Callable[..., Any]


class Refusal(Exception):
    """A request the gate turns away: the status, what the caller is told, what is logged."""

    def __init__(self, status: int, public: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.public, self.reason = status, public, reason


@dataclass
class Gate:
    """A WSGI application: checks the request, then hands it to the Bolt app."""

    app: App
    signing_secret: str
    max_body: int = MAX_BODY_BYTES
    clock: Callable[[], float] = field(default=time.time)
    _verifier: SignatureVerifier = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Built once: the verifier keeps the secret and judges timestamps by the gate's clock.
        self._verifier = SignatureVerifier(self.signing_secret, clock=_GateClock(self.clock))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request."""
        try:
            request = self.admit(environ)
        except Refusal as refusal:
            log.warning(
                "refused a request to %s from %s with %d: %s",
                environ.get("PATH_INFO", ""),
                environ.get("REMOTE_ADDR", "?"),
                refusal.status,
                refusal.reason,
            )
            return _answer(start_response, refusal.status, {"error": refusal.public})
        try:
            with acting_once(*replay_key(environ)):
                response = self.app.dispatch(request)
        except Exception:  # Bolt trusts Slack's shapes; whatever slipped through is refused
            ref = uuid.uuid4().hex[:8]
            log.exception("could not handle a request to /slack/events (reference %s)", ref)
            return _answer(start_response, 400, {"error": "malformed request", "reference": ref})
        return _respond(start_response, response)

    def admit(self, environ: dict[str, Any]) -> BoltRequest:
        """The request as Bolt should see it, or a Refusal."""
        if environ.get("REQUEST_METHOD") != "POST":
            raise Refusal(405, "method not allowed", f"method {environ.get('REQUEST_METHOD')}")
        body = self._read(environ)
        self._verify(body, environ)
        try:
            document = parse_body(body, str(environ.get("CONTENT_TYPE") or ""))
            check_envelope(document)
        except MalformedRequest as exc:
            raise Refusal(400, f"malformed request: {exc}", f"malformed: {exc}") from None
        headers: dict[str, str | Sequence[str]] = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = "application/json"
        return BoltRequest(
            body=json.dumps(document),
            query=str(environ.get("QUERY_STRING") or ""),
            headers=headers,
            # Bolt reads the body into a context as it builds the request, and logs through
            # the context's logger there (several response_urls) before its app sets one.
            context={"logger": _BOLT_LOG},
        )

    def _read(self, environ: dict[str, Any]) -> bytes:
        raw = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            raise Refusal(400, "bad content length", f"Content-Length {raw[:20]!r}")
        length = int(raw)
        if length > self.max_body:
            raise Refusal(
                413,
                f"request body over {self.max_body} bytes",
                f"body of {length} bytes, over the limit of {self.max_body}",
            )
        body: bytes = environ["wsgi.input"].read(length) if length else b""
        return body

    def _verify(self, body: bytes, environ: dict[str, Any]) -> None:
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
        if not self.signing_secret.strip():
            raise Refusal(401, "invalid request", "SLACK_SIGNING_SECRET is not set")
        if not timestamp or not signature:
            raise Refusal(401, "invalid request", "no signature or timestamp")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise Refusal(401, "invalid request", f"timestamp {timestamp[:20]!r} is not a number")
        skew = abs(self.clock() - int(timestamp))
        if skew > MAX_SKEW_SECONDS:
            raise Refusal(
                401,
                "invalid request",
                f"timestamp {skew:.0f}s away from now (a replay, or a wrong clock)",
            )
        try:
            text = body_text(body)
        except MalformedRequest as exc:
            raise Refusal(400, f"malformed request: {exc}", f"malformed: {exc}") from None
        # Header values arrive as latin-1 text; a signature is ASCII hex, compared in constant time.
        if not (signature.isascii() and self._verifier.is_valid(text, timestamp, signature)):
            raise Refusal(401, "invalid request", "signature does not match the body")


class _GateClock(Clock):
    """The gate's clock as the verifier reads it, so both judge a timestamp the same."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock()


def replay_key(environ: dict[str, Any]) -> tuple[str, datetime]:
    """A verified request's replay key (a hash of its signature) and until when to keep it:
    past then, the gate refuses its signature as stale."""
    signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
    timestamp = int(str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "0"))
    key = hashlib.sha256(signature.encode("latin-1", "replace")).hexdigest()
    until = timestamp + MAX_SKEW_SECONDS + REPLAY_MARGIN_SECONDS
    return key, datetime.fromtimestamp(until, UTC)


def _answer(start_response: StartResponse, status: int, body: dict[str, str]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def _respond(start_response: StartResponse, response: BoltResponse) -> list[bytes]:
    data = (response.body or "").encode()
    headers = [
        (name, value)
        for name, values in response.headers.items()
        if name.lower() != "content-length"
        for value in values
    ]
    headers.append(("Content-Length", str(len(data))))
    start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
    return [data]
