"""Sending signed requests: one keep-alive connection per simulated client, timed per request."""

from __future__ import annotations

import http.client
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

from bench.slack import FORM, signed_headers


@dataclass
class Answer:
    """One request's round trip."""

    seconds: float
    status: int
    body: bytes


@dataclass
class Load:
    """Every answer of one batch, in the order they were sent."""

    answers: list[Answer] = field(default_factory=list)

    @property
    def seconds(self) -> list[float]:
        """Latencies, in seconds."""
        return [a.seconds for a in self.answers]


class Connection:
    """A keep-alive HTTP/1.1 connection that signs each body as Slack does."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._path = parts.path
        self._conn = http.client.HTTPConnection(self._host, self._port, timeout=30)

    def post(self, body: str, content_type: str = FORM) -> Answer:
        """POST ``body``; the time covers sending it and reading the whole answer."""
        headers = signed_headers(body, content_type)
        data = body.encode()
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                self._conn.request("POST", self._path, body=data, headers=headers)
                response = self._conn.getresponse()
                payload = response.read()
            except (http.client.HTTPException, ConnectionError):
                # The server closed an idle keep-alive connection: reconnect once, untimed.
                self._conn.close()
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=30)
                if attempt == 2:
                    raise
                continue
            return Answer(time.perf_counter() - start, response.status, payload)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def send(url: str, body_of: Callable[[int], str], count: int, concurrency: int) -> Load:
    """Send ``count`` requests from ``concurrency`` clients, each waiting for its answer."""
    answers: list[Answer | None] = [None] * count
    lock = threading.Lock()
    next_index = iter(range(count))
    errors: list[BaseException] = []

    def client() -> None:
        conn = Connection(url)
        try:
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                answers[i] = conn.post(body_of(i))
        except BaseException as exc:  # reported to the caller below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(max(1, concurrency))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return Load([a for a in answers if a is not None])


def _send_bodies(url: str, bodies: Sequence[str], concurrency: int) -> Load:
    return send(url, bodies.__getitem__, len(bodies), concurrency)


class Sender:
    """Sends from a process of its own, as Slack's servers would from theirs.

    The clock that times each answer then shares no interpreter lock with the Slack stand-in,
    which runs in the benchmark's process and is busy with the cards a ``start`` posts.
    """

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> Sender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._pool.shutdown()

    def send(self, url: str, bodies: Sequence[str], concurrency: int) -> Load:
        """Each body in turn, from ``concurrency`` clients; like ``send``."""
        return self._pool.submit(_send_bodies, url, list(bodies), concurrency).result()
