"""Serving the app: HTTP mode (POST /slack/events behind waitress) or Socket Mode."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.run.startup import SIGNING_HELP, StartupError
from bot.slack.gate import Gate

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
EVENTS_PATH = "/slack/events"


def wsgi_app(app: App, *, signing_secret: str, ops: WsgiApp | None = None) -> WsgiApp:
    """Route Slack's requests through the gate to Bolt; the rest to ``ops`` (health, metrics,
    calendar) if given, else a plain liveness probe answers GET /healthz."""
    slack = Gate(app, signing_secret)

    def route(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENTS_PATH:
            return slack(environ, start_response)
        if ops is not None:
            return ops(environ, start_response)
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps({"status": "ok"}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return route


def serve_http(
    app: App, host: str, port: int, *, signing_secret: str, ops: WsgiApp | None = None
) -> None:
    """Serve until interrupted; refuses to start without a signing secret."""
    if not signing_secret.strip():  # every request would be refused: say so now, once
        raise StartupError(f"HTTP mode needs SLACK_SIGNING_SECRET. {SIGNING_HELP}")
    log.info("listening on http://%s:%d%s", host, port, EVENTS_PATH)
    _serve(wsgi_app(app, signing_secret=signing_secret, ops=ops), host, port)


def serve_socket_mode(
    app: App,
    app_token: str,
    web_client: WebClient,
    *,
    ops: WsgiApp | None = None,
    host: str = "127.0.0.1",
    port: int = 3000,
    on_probe: Callable[[Callable[[], bool]], None] | None = None,
) -> None:
    """Connect to Slack over Socket Mode (no public URL) until interrupted.

    With ``ops``, the operator routes (health, metrics, calendar; not /slack/events) are
    served on ``host:port`` meanwhile. ``on_probe`` receives a function that tells whether
    the WebSocket is connected (for the health check).
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler  # noqa: PLC0415

    # The web client carries SLACK_API_URL, so apps.connections.open goes to the same place.
    handler = SocketModeHandler(app, app_token, web_client=web_client)
    if on_probe is not None:
        on_probe(handler.client.is_connected)
    if ops is None:
        handler.start()  # type: ignore[no-untyped-call]
        return
    handler.connect()  # type: ignore[no-untyped-call]
    log.info("Socket Mode connected; operator routes on http://%s:%d", host, port)
    try:
        _serve(ops, host, port)
    finally:
        handler.close()  # type: ignore[no-untyped-call]


def _serve(application: WsgiApp, host: str, port: int) -> None:
    from bot.run.http_server import make_server  # noqa: PLC0415 - only serving needs waitress

    make_server(application, host, port).run()
