"""Serving the app: HTTP mode (POST /slack/events behind waitress) or Socket Mode."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.gate import MAX_BODY_BYTES, Gate

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
EVENTS_PATH = "/slack/events"


def wsgi_app(app: App, *, signing_secret: str) -> WsgiApp:
    """Route Slack's requests through the gate to Bolt and answer a liveness probe."""
    slack = Gate(app, signing_secret)

    def route(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return slack(environ, start_response)
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps({"status": "ok"}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return route


def serve_http(app: App, host: str, port: int, *, signing_secret: str) -> None:
    """Serve until interrupted."""
    from waitress import serve  # noqa: PLC0415 - only the HTTP mode needs waitress

    log.info("listening on http://%s:%d%s", host, port, EVENTS_PATH)
    serve(
        wsgi_app(app, signing_secret=signing_secret),
        host=host,
        port=port,
        threads=8,
        ident="sis-maint",
        # Larger bodies are refused before they are buffered; the gate refuses them too.
        max_request_body_size=MAX_BODY_BYTES,
    )


def serve_socket_mode(app: App, app_token: str, web_client: WebClient) -> None:
    """Connect to Slack over Socket Mode (no public URL) until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler  # noqa: PLC0415

    # The web client carries SLACK_API_URL, so apps.connections.open goes to the same place.
    SocketModeHandler(app, app_token, web_client=web_client).start()  # type: ignore[no-untyped-call]
