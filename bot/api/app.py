"""The /api/v1 routes as a WSGI application: authenticate, read, call one service, answer.

Every refusal is ``{"error": {"code", "field", "message"}}`` with its status: 400 a body that
is not a JSON object, 401 no or an unknown token, 403 a role the token lacks or a window it
may not manage, 404 no such window or route, 405 a method the route does not take, 409 the
window has moved on (or the Idempotency-Key was used), 413 a body over 64 KiB, 422 a field that
cannot be used, 502 the card could not be posted in Slack (the request is withdrawn).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.api import windows
from bot.api.answers import Answer, ApiError
from bot.api.openapi import document
from bot.api.tokens import Caller, Tokens
from bot.errors import Conflict, InputError, NotFound, PermissionDenied
from bot.slack.context import SlackDeps
from storage.replay import Replayed, acting_once

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
PREFIX = "/api/v1"
MAX_BODY = 64 * 1024
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
# How long an Idempotency-Key is remembered (the replay keys' purge drops it after).
KEY_KEPT = timedelta(hours=24)
_WINDOW_ROUTE = re.compile(r"^/windows/(\d{1,9})(?:/(extend|end|cancel))?$")

_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    502: "Bad Gateway",
}


@dataclass(frozen=True)
class Request:
    """One call, read: its method, the path below /api/v1, the caller and the body's JSON."""

    method: str
    path: str
    caller: Caller
    query: str
    body: Any = field(default=None)
    idempotency_key: str | None = None


class Api:
    """The API of one running bot."""

    def __init__(self, deps: SlackDeps, tokens: Tokens) -> None:
        self._deps = deps
        self._tokens = tokens
        self._document = json.dumps(document()).encode()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request under /api/v1."""
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))[len(PREFIX) :]
        caller: Caller | None = None
        try:
            if path == "/openapi.json":
                _only(method, "GET")
                return _send(start_response, 200, self._document)
            caller = self._authenticate(environ)
            answer = self._answer(_read(environ, method, path, caller))
        except ApiError as exc:
            log.info("api %s %s%s: %d %s", method, PREFIX, path, exc.http_status, exc.code)
            challenge = [("WWW-Authenticate", 'Bearer realm="sis-maint"')]
            extra = challenge if exc.http_status == 401 else []
            return _send(start_response, exc.http_status, _json(exc.body()), extra)
        log.info("api %s %s%s by %s: %d", method, PREFIX, path, caller.name, answer.http_status)
        return _send(start_response, answer.http_status, _json(answer.body))

    def _authenticate(self, environ: dict[str, Any]) -> Caller:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        if not header:
            raise ApiError(401, "unauthorized", "Send the token: Authorization: Bearer <token>.")
        caller = self._tokens.caller(header)
        if caller is None:
            raise ApiError(401, "unauthorized", "That token is not one this bot knows.")
        return caller

    def _answer(self, request: Request) -> Answer:
        if request.idempotency_key is None:
            return self._route(request)
        key = hashlib.sha256(f"{request.caller.name}\n{request.idempotency_key}".encode())
        expires = self._deps.clock.now() + KEY_KEPT
        try:
            with acting_once("api:" + key.hexdigest()[:56], expires):
                return self._route(request)
        except Replayed:
            raise ApiError(
                409,
                "replayed",
                "A request with this Idempotency-Key was made already; it acted once.",
                "Idempotency-Key",
            ) from None

    def _route(self, request: Request) -> Answer:
        deps, path, method = self._deps, request.path, request.method
        try:
            if path == "/environments":
                _only(method, "GET")
                return windows.environments(deps, request.caller)
            if path == "/windows":
                _only(method, "GET", "POST")
                if method == "GET":
                    return windows.listing(deps, request.caller, request.query)
                return windows.create(deps, request.caller, request.body)
            match = _WINDOW_ROUTE.match(path)
            if match is None:
                raise ApiError(404, "not_found", f"There is no route {PREFIX}{path}.")
            window_id, verb = int(match.group(1)), match.group(2)
            if verb is None:
                _only(method, "GET")
                return windows.one(deps, request.caller, window_id)
            _only(method, "POST")
            return windows.change(deps, request.caller, window_id, verb, request.body)
        except InputError as exc:
            raise ApiError(422, "invalid", str(exc), exc.field) from None
        except PermissionDenied as exc:
            raise ApiError(403, "forbidden", str(exc)) from None
        except NotFound as exc:
            raise ApiError(404, "not_found", str(exc)) from None
        except Conflict as exc:
            raise ApiError(409, "conflict", str(exc)) from None


def _only(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise ApiError(
            405, "method_not_allowed", f"Use {' or '.join(allowed)} here, not {method[:10]}."
        )


def _read(environ: dict[str, Any], method: str, path: str, caller: Caller) -> Request:
    """The request, its body read as JSON (an empty body reads as None)."""
    raw = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise ApiError(400, "bad_request", "Content-Length is not a number.")
    if len(raw) > 7 or int(raw) > MAX_BODY:
        raise ApiError(413, "too_large", f"The body is over {MAX_BODY // 1024} KiB.")
    data = environ["wsgi.input"].read(int(raw)) if int(raw) else b""
    body: Any = None
    if data.strip():
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "bad_request", "The body is not JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "bad_request", "The body must be a JSON object.")
    key = environ.get("HTTP_IDEMPOTENCY_KEY")
    if key is not None and not IDEMPOTENCY_KEY.match(str(key)):
        raise ApiError(
            400,
            "bad_request",
            "Idempotency-Key must be 1 to 200 printable ASCII characters without spaces.",
            "Idempotency-Key",
        )
    return Request(
        method,
        path,
        caller,
        str(environ.get("QUERY_STRING", "")),
        body,
        str(key) if key is not None and method == "POST" else None,
    )


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def _send(
    start_response: StartResponse,
    status: int,
    body: bytes,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *(extra or []),
    ]
    start_response(f"{status} {_REASONS[status]}", headers)
    return [body]
