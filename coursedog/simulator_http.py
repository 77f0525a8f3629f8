"""The HTTP side of the simulator: one thread per connection, faults applied here."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from coursedog.simulator_api import Reply, Request, api_reply, control_reply

if TYPE_CHECKING:
    from coursedog.simulator import Simulator

logger = logging.getLogger("coursedog.simulator")

CONTROL_PREFIX = "/_sim"
# The control calls may be driven from a sandbox page served on another origin.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its Simulator."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under concurrent clients, and
    # each dropped SYN costs the client a one-second retransmission.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        self.sim = sim
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log instead of printing a traceback; clients hanging up is routine here."""
        logger.debug("connection from %s ended abruptly", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The request being answered, as numbered by Simulator.record.
    number: int | None = None
    # Headers and body go out in two writes; without this each answer waits ~40 ms.
    disable_nagle_algorithm = True
    server: SimulatorServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        req = self._read_request()
        self.number = self.server.sim.record(req.method, req.path)
        status = 204 if _is_control(req.path) else 405
        self._send(Reply(status, None, dict(CORS_HEADERS) if status == 204 else {}))

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _read_request(self) -> Request:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        return Request(self.command, parts.path, parse_qs(parts.query), headers, body)

    def _handle(self) -> None:
        sim = self.server.sim
        req = self._read_request()
        self.number = sim.record(req.method, req.path)
        if _is_control(req.path):
            reply = control_reply(sim, req)
            self._send(Reply(reply.status, reply.body, {**reply.headers, **CORS_HEADERS}))
            return
        fault = sim.faults.take(req.method, req.path)
        delay = sim.latency + (fault.delay if fault is not None and fault.kind == "delay" else 0)
        if delay > 0 and sim.stopping.wait(delay):
            self._hang_up()
            return
        if fault is not None and fault.kind == "drop_before_apply":
            self._hang_up()
            return
        if fault is not None and fault.kind == "status":
            self._send(_fault_reply(fault.status, fault.retry_after, fault.body))
            return
        if fault is not None and fault.kind == "apply_late" and not sim.wait_late(fault.hold):
            self._hang_up()  # the simulator stopped first: never applied
            return
        reply = api_reply(sim, sim.routes(), req)
        if fault is not None and fault.kind == "timeout_after_apply":
            # Applied, but the answer never leaves: the client cannot know it happened.
            sim.stopping.wait(fault.hold)
            self._hang_up()
            return
        self._send(reply)

    def _answer_leaves(self) -> None:
        # Noted before the bytes go, so it precedes whatever the client sends next.
        if self.number is not None:
            self.server.sim.answer_leaves(self.number)

    def _hang_up(self) -> None:
        self._answer_leaves()
        self.close_connection = True
        with contextlib.suppress(OSError):  # the peer may be gone already
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, reply: Reply) -> None:
        if isinstance(reply.body, str) and reply.content_type != "application/json":
            data = reply.body.encode()
        else:
            data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self._answer_leaves()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _is_control(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def _fault_reply(status: int, retry_after: str | None, body: object) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    if isinstance(body, str):
        # Gateways in front of real services often answer errors in plain text or HTML.
        return Reply(status, body, headers, content_type="text/plain; charset=utf-8")
    if body is None:
        body = {"statusCode": status, "message": f"simulated fault: {status}"}
    return Reply(status, body, headers)
