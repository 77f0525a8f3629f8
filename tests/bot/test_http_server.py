"""Slow clients over real sockets cannot keep Slack's requests or the health probe out."""

from __future__ import annotations

import itertools
import select
import shutil
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpx
import pytest

from bot.run.http_server import Limits
from tests.harness import REQUESTER, Bot, running_bot

# The start of a request whose headers never end: one byte of it at a time.
ENDLESS = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Slowly: "


@pytest.fixture
def ledger(tmp_path: Path, sqlite_template: Path) -> str:
    """The server is what is tested here; the ledger behind it is SQLite's."""
    path = tmp_path / "ledger.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


class Trickle:
    """``count`` connections, each sending one byte of a request every ``every`` seconds and
    opening again whenever the server closes it, as a persistent attacker would."""

    def __init__(self, port: int, count: int, every: float) -> None:
        self._port, self._count, self._every = port, count, every
        self._socks: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.closed_by_server = 0
        self._closed = threading.Condition()
        self.error: BaseException | None = None

    def __enter__(self) -> Trickle:
        self._socks = [self._open() for _ in range(self._count)]
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self._socks:
            sock.close()
        if self.error is not None:
            raise self.error

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self._port), timeout=5)
        sock.sendall(ENDLESS[:1])
        return sock

    def _run(self) -> None:
        try:
            self._trickle()
        except BaseException as exc:  # the test fails with it on leaving
            self.error = exc

    def _trickle(self) -> None:
        for n in itertools.count(1):
            if self._stop.wait(self._every):
                return
            byte = ENDLESS[n : n + 1] or b"x"
            for i, sock in enumerate(self._socks):
                try:
                    sock.sendall(byte)
                except OSError:
                    self._reopen(i)
            readable, _, _ = select.select(self._socks, [], [], 0)
            for sock in readable:  # a server only ever closes these: they never finish
                self._reopen(self._socks.index(sock))

    def _reopen(self, i: int) -> None:
        self._socks[i].close()
        with self._closed:
            self.closed_by_server += 1
            self._closed.notify_all()
        self._socks[i] = self._open()

    def wait_closed(self, count: int, timeout: float) -> bool:
        """Wait until the server has closed ``count`` of these connections."""
        with self._closed:
            return self._closed.wait_for(lambda: self.closed_by_server >= count, timeout)


def port_of(bot: Bot) -> int:
    port = urlsplit(bot.url).port
    assert port is not None
    return port


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response (it has a Content-Length) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += _more(sock, data)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += _more(sock, data + body)
    return head + b"\r\n\r\n" + body


def _more(sock: socket.socket, so_far: bytes) -> bytes:
    chunk = sock.recv(4096)
    assert chunk, f"the server closed the connection after {so_far!r}"
    return chunk


def answered_in_time(bot: Bot, within: float) -> None:
    """A signed command and the health probe, each on a connection of its own, in time."""
    started = time.monotonic()
    reply = bot.command(REQUESTER, "help")
    assert reply.status_code == 200 and "start" in reply.json()["text"]
    with httpx.Client(timeout=10) as fresh:
        health = fresh.get(bot.url.replace("/slack/events", "/healthz"))
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert time.monotonic() - started < within


def test_a_hundred_and_fifty_slow_clients_leave_room_for_the_bots_requests(ledger: str) -> None:
    with running_bot(ledger) as bot:
        bot.tick()  # the health probe wants one scheduler pass
        with Trickle(port_of(bot), 150, every=0.5):
            answered_in_time(bot, within=2.0)


def test_more_slow_clients_than_connections_are_closed_within_the_bound(ledger: str) -> None:
    """With the limit full of them, the bound on a request's arrival makes room in seconds."""
    limits = Limits(request_seconds=1, connections=100, threads=4)
    with running_bot(ledger, limits=limits) as bot:
        bot.tick()
        with Trickle(port_of(bot), 150, every=0.5) as crowd:
            answered_in_time(bot, within=6.0)
            assert crowd.wait_closed(100, timeout=5.0)  # they were let go, not let in


def test_a_kept_alive_connection_may_wait_between_requests(ledger: str) -> None:
    """The bound is on a request arriving, not on a connection's quiet time between two."""
    with running_bot(ledger, limits=Limits(request_seconds=0.5, threads=4)) as bot:
        bot.tick()
        probe = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n"
        with socket.create_connection(("127.0.0.1", port_of(bot)), timeout=5) as sock:
            sock.sendall(probe)
            assert read_response(sock).startswith(b"HTTP/1.1 200")
            time.sleep(2.5)  # quiet for longer than the bound, and past two maintenance passes
            sock.sendall(probe)
            assert read_response(sock).startswith(b"HTTP/1.1 200")


def test_a_connection_that_says_nothing_is_closed_within_the_bound(ledger: str) -> None:
    limits = Limits(request_seconds=0.5, threads=4)
    with (
        running_bot(ledger, limits=limits) as bot,
        socket.create_connection(("127.0.0.1", port_of(bot)), timeout=5) as sock,
    ):
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 3.0
