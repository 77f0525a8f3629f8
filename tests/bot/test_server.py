"""Serving: which routes each mode answers, and how Socket Mode feeds the health check."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.adapter import socket_mode

from bot.run import server
from tests.harness import Bot


class FakeHandler:
    """Stands in for Bolt's SocketModeHandler: no WebSocket, just the calls made on it."""

    made: list[FakeHandler] = []

    def __init__(self, app: Any, app_token: str, web_client: Any) -> None:
        self.app_token = app_token
        self.calls: list[str] = []
        self.connected = False
        self.client = self
        FakeHandler.made.append(self)

    def is_connected(self) -> bool:
        return self.connected

    def connect(self) -> None:
        self.calls.append("connect")
        self.connected = True

    def close(self) -> None:
        self.calls.append("close")
        self.connected = False

    def start(self) -> None:
        self.calls.append("start")


def test_socket_mode_serves_the_operator_routes_and_reports_its_connection(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[tuple[Any, str, int]] = []
    probes: list[Any] = []
    seen_while_serving: list[bool] = []

    def fake_serve(application: Any, host: str, port: int) -> None:
        served.append((application, host, port))
        seen_while_serving.append(probes[0]())

    monkeypatch.setattr(socket_mode, "SocketModeHandler", FakeHandler)
    monkeypatch.setattr(server, "_serve", fake_serve)
    ops = bot.runtime.ops
    server.serve_socket_mode(
        bot.runtime.app,
        "xapp-1-test",
        bot.runtime.app.client,
        ops=ops,
        host="127.0.0.1",
        port=3999,
        on_probe=probes.append,
    )
    (handler,) = FakeHandler.made[-1:]
    assert handler.calls == ["connect", "close"]
    assert served == [(ops, "127.0.0.1", 3999)]  # the operator routes, not /slack/events
    assert seen_while_serving == [True] and probes[0]() is False


def test_socket_mode_without_operator_routes_just_runs_the_handler(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket_mode, "SocketModeHandler", FakeHandler)
    server.serve_socket_mode(bot.runtime.app, "xapp-1-test", bot.runtime.app.client)
    assert FakeHandler.made[-1].calls == ["start"]


def test_http_mode_sends_every_other_path_to_the_operator_routes(bot: Bot) -> None:
    assert bot.get("/healthz").status_code in (200, 503)
    assert bot.get("/metrics").status_code == 200
    assert bot.get("/nothing-here").status_code == 404
    assert bot.http.post(bot.url.removesuffix("/slack/events") + "/metrics").status_code == 404
