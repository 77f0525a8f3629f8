"""The example webhook receiver (examples/webhook_receiver.py) on a free port, recording what
reaches it, and a stand-in for Teams and Statuspage to forward to. All on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from examples.webhook_receiver import Receiver, State, Statuspage, Teams, serve

HOOK_SECRET = "hook-secret-for-tests-0123456789abcdef"


class Recording(Receiver):
    """The example receiver, keeping every request's event id and answer; ``refuse`` answers
    that many requests 500 first, ``gate`` (when set) holds each request until it is set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: list[tuple[str, int]] = []  # (event id, status) of every request
        self.handled: list[dict[str, Any]] = []  # each event once, as the receiver sees them
        self.refuse = 0
        self.gate: threading.Event | None = None
        self.arrived = threading.Event()
        self._record = threading.Lock()

    def handle(self, headers: Mapping[str, str], body: bytes) -> int:
        self.arrived.set()
        if self.gate is not None:
            self.gate.wait(30)
        with self._record:
            refused = self.refuse > 0
            self.refuse -= int(refused)
        event_id = headers.get("x-sismaint-event-id", "")
        status = 500 if refused else super().handle(headers, body)
        with self._record:
            self.answers.append((event_id, status))
            if status == 204 and all(e["id"] != event_id for e in self.handled):
                self.handled.append(json.loads(body))
        return status

    def types(self) -> list[str]:
        """The types of the events handled, in order."""
        return [event["type"] for event in self.handled]


@dataclass
class StandIn:
    """Teams' incoming webhook and Statuspage's incidents API in one server: every JSON
    request kept as (method, path, body); an incident created answers its id."""

    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    fail: int = 0  # answer that many requests 500 first

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if self.fail > 0:
            self.fail -= 1
            return 500, None
        self.requests.append((method, path, body))
        if method == "POST" and path.endswith("/incidents"):
            opened = sum(m == "POST" and p.endswith("/incidents") for m, p, _ in self.requests)
            return 201, {"id": f"inc{opened}"}
        return 200, {}


@contextmanager
def stand_in() -> Iterator[tuple[StandIn, str]]:
    """The stand-in on a free port, and its base URL."""
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, document = state.answer(
                self.command, self.path, json.loads(self.rfile.read(length) or b"null")
            )
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PATCH = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def receiver(
    tmp: Path, forward_to: str | None = None, *, secret: str = HOOK_SECRET, name: str = "hook"
) -> Iterator[tuple[Recording, str]]:
    """The example receiver on a free port (forwarding to Teams and Statuspage at
    ``forward_to`` when given), and its URL."""
    forwarders: list[Teams | Statuspage] = []
    if forward_to is not None:
        forwarders = [
            Teams(f"{forward_to}/teams"),
            Statuspage("PAGE1", "statuspage-key", api_url=forward_to),
        ]
    recording = Recording(secret, State(str(tmp / f"{name}.db")), forwarders)
    server = serve(recording, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recording, f"http://127.0.0.1:{server.server_address[1]}/{name}"
    finally:
        if recording.gate is not None:
            recording.gate.set()
        server.shutdown()
        server.server_close()
