"""Which port each local server listens on.

A port someone set (PORT, --port, a configuration file) is used as it is: when it is busy the
bot does not start, and the error says where it was set. A default port that is busy (a second
`make run`, another program on 8787) gives way to a free one, and the caller says which.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from bot.config import Settings
from bot.process_env import ProcessEnv
from bot.run.startup import StartupError

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Port:
    """A port asked for, and where: ``set_by`` names the setting (None: a default that may give
    way to a free port when busy)."""

    number: int
    set_by: str | None = None
    # For a default that must not move (Slack is told where the bot is): how to choose another.
    fixed_default: str | None = None


@dataclass(frozen=True)
class Placed:
    """The port to listen on, and a sentence when it is not the one asked for."""

    number: int
    moved: str | None = None


def place(host: str, port: Port, what: str) -> Placed:
    """The port ``what`` listens on (see the module docstring); a StartupError when it cannot."""
    problem = _unusable(host, port.number)
    if problem is None:
        return Placed(port.number)
    if port.set_by is not None:
        where = f"{port.set_by} sets it"
    elif port.fixed_default is not None:
        where = f"it is the default; {port.fixed_default}"
    else:
        free = free_port(host)
        return Placed(free, f"port {port.number} was in use, so {what} is on {free}")
    raise StartupError(
        f"{what[0].upper()}{what[1:]} cannot listen on {host}:{port.number} ({problem}); "
        f"{where}. Stop what holds it, or choose another port."
    )


def simulator_set_by(env: ProcessEnv, source: str) -> str | None:
    """Where the embedded simulator's port was set: a file's, or the defaults' (may move)."""
    return f"simulator.port in {source}" if env.config_file else None


def place_simulator(settings: Settings, set_by: str | None) -> tuple[Settings, str | None]:
    """The settings with the embedded simulator on a port it can listen on (see ``place``)."""
    if not settings.simulator.embedded:
        return settings, None
    placed = place(LOOPBACK, Port(settings.simulator.port, set_by), "the Coursedog simulator")
    if placed.moved is None:
        return settings, None
    return settings.with_simulator_port(placed.number), placed.moved


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _unusable(host: str, port: int) -> str | None:
    """Why nothing can listen on ``host:port`` now (None: it can). Port 0 is any free one."""
    if port == 0:
        return None
    with socket.socket() as probe:
        # As the servers bind: a closed connection still waiting out its time does not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "it is in use"
            return exc.strerror or str(exc)
    return None
