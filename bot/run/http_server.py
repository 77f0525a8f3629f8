"""The HTTP server of both modes: waitress, with a bound on how long a request may take to arrive.

waitress reads requests asynchronously and hands only whole ones to its threads, so a slow
client holds no thread; but it holds a connection, and waitress keeps at most
``connection_limit`` of them (by default 100), leaving the rest in the listen backlog. Its only
timeout counts from the last byte received, so a client that sends a byte every few seconds
keeps its connection as long as it likes, and a hundred such clients keep out everyone else:
Slack's requests and the health probe wait in the backlog until they give up.

So here a connection must deliver each request whole (headers and body) within
``request_seconds`` of its first byte, and its first request within that time of being
accepted (a client that connects and says nothing is no different). Once a second the server
closes the connections past their bound. The connection limit is raised besides, so that slow
clients must come in large numbers to fill it, and even then it empties within the bound.
Between requests, a kept-alive connection is closed after ``idle_seconds`` without a byte.

In production a reverse proxy or load balancer in front buffers each request whole and
enforces header and body timeouts of its own (docs/deploy.md); this bound is the bot's floor.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, cast

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from bot.slack.gate import MAX_BODY_BYTES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """How many connections the server keeps, and how long each may take."""

    # Slack gives up on an answer after 3 s: a request still arriving after 5 s serves nobody.
    request_seconds: float = 5.0
    idle_seconds: int = 120
    connections: int = 500
    backlog: int = 2048  # the kernel caps it at net.core.somaxconn
    threads: int = 8


class _Channel(HTTPChannel):
    """A connection whose requests must arrive whole within the server's bound."""

    # Set before waitress registers the channel, so maintenance never sees it without them.
    _since = math.inf  # when the request now arriving began (or the connection was accepted)
    _first = True  # no request has been served yet
    _serving = False

    def __init__(self, server: Any, sock: Any, addr: Any, adj: Any, map: Any = None) -> None:
        super().__init__(server, sock, addr, adj, map)
        self._since = self.creation_time

    def received(self, data: bytes) -> bool:
        """Note when a later request's first byte comes, then parse as waitress does."""
        if self.request is None and not self.requests and not self._first and data:
            self._since = time.time()
        return bool(super().received(data))

    def service(self) -> None:
        """Serve a request as waitress does; the next one is timed from the end of this one."""
        self._first, self._serving = False, True
        try:
            super().service()
        finally:
            # Before _serving drops, so maintenance never sees an old start on an idle channel.
            self._since = time.time()
            self._serving = False

    def overdue(self, now: float, bound: float) -> bool:
        """Whether a request has been arriving on this connection for longer than ``bound``."""
        if self.requests or self._serving or self.will_close or self.total_outbufs_len:
            return False  # being served, or answered and still sending
        arriving = self._first or self.request is not None
        return arriving and now - self._since > bound


class BoundedServer(TcpWSGIServer):
    """waitress's TCP server, closing connections whose request takes too long to arrive."""

    channel_class = _Channel

    def __init__(self, application: Any, *, request_seconds: float, **kwargs: Any) -> None:
        self.request_seconds = request_seconds
        super().__init__(application, **kwargs)

    def maintenance(self, now: float) -> None:
        """Close idle connections (waitress) and those whose request is overdue."""
        super().maintenance(now)  # type: ignore[arg-type] # the stubs say int; it is time.time()
        channels = cast("dict[int, HTTPChannel]", self.active_channels)  # fd -> channel
        late = [
            channel
            for channel in list(channels.values())
            if isinstance(channel, _Channel) and channel.overdue(now, self.request_seconds)
        ]
        for channel in late:
            channel.will_close = True
        if late:
            log.warning(
                "closing %d connection(s) that did not deliver a whole request within %gs",
                len(late),
                self.request_seconds,
            )


def make_server(
    application: Any,
    host: str,
    port: int,
    *,
    limits: Limits = Limits(),
    socket_map: dict[int, Any] | None = None,
    max_body: int = MAX_BODY_BYTES,
) -> BoundedServer | MultiSocketServer:
    """A server for ``application`` on every address ``host`` names; ``run()`` serves."""
    adj = Adjustments(
        host=host,
        port=port,
        threads=limits.threads,
        ident="sis-maint",
        # Larger bodies are refused before they are buffered; the gate refuses them too.
        max_request_body_size=max_body,
        connection_limit=limits.connections,
        backlog=limits.backlog,
        channel_timeout=limits.idle_seconds,
        cleanup_interval=1,  # how often connections past their bound are looked for
        asyncore_use_poll=True,  # select() cannot watch descriptors above 1023
    )
    socket_map = {} if socket_map is None else socket_map
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = [
        BoundedServer(
            application,
            request_seconds=limits.request_seconds,
            map=socket_map,
            dispatcher=dispatcher,
            adj=adj,
            sockinfo=sockinfo,
        )
        for sockinfo in adj.listen
    ]
    if len(servers) == 1:
        return servers[0]
    listening = [(cast(Any, s).effective_host, cast(Any, s).effective_port) for s in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[0].log_info)
