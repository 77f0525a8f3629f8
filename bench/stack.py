"""The servers a benchmark talks to: the Slack stand-in, the Coursedog simulator, and the bot
or a bare Bolt app, each served by the project's own HTTP stack in a process of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx

from bench.slack import APPROVALS, APPROVER, REQUESTER, SIGNING_SECRET, TimedSlack
from coursedog.simulator import SchoolState, Simulator

EMAIL = "svc-sis-maint@example.edu"
PASSWORD = "bench-password-4711"  # noqa: S105 - the simulator's own user
SCHOOLS = {"prod": "bench_prod", "staging": "bench_staging"}
ROOT = Path(__file__).resolve().parent.parent  # where `python -m bench...` finds the package


def settings_toml(coursedog_url: str, schools: Mapping[str, str] = SCHOOLS, extra: str = "") -> str:
    """The configuration of the benchmarked bot: two environments on the simulator (or
    ``schools``: environment -> school), with ``extra`` top-level settings.

    The periodic reconcile and watchdog passes are pushed out to their longest intervals so
    that a measurement sees only the calls its own requests cause.
    """
    envs = "".join(
        f"""
[environments.{name}]
label = "{name.title()}"
base_url = "{coursedog_url}"
school = "{school}"
email_env = "CD_EMAIL"
password_env = "CD_PASSWORD"
driver = "api"
max_duration = "2d"
"""
        for name, school in schools.items()
    )
    return (
        extra + f'approvals_channel = "{APPROVALS}"\n'
        f'approvers = ["{APPROVER}"]\n'
        "reconcile_interval_seconds = 3600\n"
        "watchdog_interval_seconds = 86400\n"
        # Nobody sends the drafted notices here: each Activity comment goes at once, saying
        # the notice is not sent yet, instead of waiting minutes for a person.
        "[coursedog_notice]\n"
        "comment_wait_seconds = 0\n" + envs
    )


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Services:
    """The Slack stand-in and the Coursedog simulator, served from this process."""

    def __init__(
        self, *, latency: float = 0.0, slack_latency: float = 0.0, schools: Sequence[str] = ()
    ) -> None:
        """``schools``: more schools the simulator serves, beside those of SCHOOLS."""
        self.slack = TimedSlack(names={REQUESTER: "Rae Quester", APPROVER: "Abe Prover"})
        self.slack.latency = slack_latency
        self.sim = Simulator(
            users={EMAIL: PASSWORD},
            schools={school: SchoolState() for school in (*SCHOOLS.values(), *schools)},
            latency=latency,
        )
        self.slack_api = ""
        self.coursedog_url = ""

    def __enter__(self) -> Services:
        self.slack_api = self.slack.start()
        self.coursedog_url = self.sim.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.sim.stop()
        self.slack.stop()


@dataclass
class Served:
    """A server process: where it listens and how to look at it."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Where Slack's requests go."""
        return f"http://127.0.0.1:{self.port}/slack/events"

    @property
    def pid(self) -> int:
        """The serving process."""
        return self.process.pid

    def memory(self) -> dict[str, int]:
        """Resident set size now and at its peak, in KiB (from /proc)."""
        found = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
        return {"rss_kib": found["VmRSS"], "peak_rss_kib": found["VmHWM"]}


def _wait_ready(served: Served, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    health = f"http://127.0.0.1:{served.port}/healthz"
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            break
        try:
            if httpx.get(health, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    tail = served.log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{served.name} did not start serving; its log ends with:\n{tail}")


def _stop(served: Served) -> None:
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(20)
        except subprocess.TimeoutExpired:
            served.process.kill()
            served.process.wait(5)


class Processes:
    """Starts server processes and stops every one of them on exit."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._dir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Served:
        log = self._dir / f"{name.replace(' ', '_')}.log"
        out: IO[bytes] = self._stack.enter_context(log.open("wb"))
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
        served = Served(name, process, int(argv[argv.index("--port") + 1]), log)
        self._stack.callback(_stop, served)
        _wait_ready(served)
        return served

    def bot(
        self, name: str, services: Services, database_url: str, *, settings: str | None = None
    ) -> Served:
        """``sis-maint serve --http`` on a fresh port, as an operator starts it (``settings``:
        its configuration file's text, else settings_toml's)."""
        config = self._dir / f"{name.replace(' ', '_')}.toml"
        config.write_text(
            settings if settings is not None else settings_toml(services.coursedog_url)
        )
        env = {
            **os.environ,
            "SIS_MAINT_CONFIG": str(config),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": services.slack.token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": services.slack_api,
            "CD_EMAIL": EMAIL,
            "CD_PASSWORD": PASSWORD,
        }
        env.pop("SLACK_APP_TOKEN", None)
        port = str(free_port())
        argv = [sys.executable, "-m", "bot.cli", "serve", "--http", "--port", port]
        return self._spawn(name, argv, env)

    def bare(self, name: str, mode: str, services: Services) -> Served:
        """A bare Bolt app (``bench.bare``) on a fresh port, behind the same server."""
        env = {
            **os.environ,
            "SLACK_API_URL": services.slack_api,
            "SLACK_BOT_TOKEN": services.slack.token,
        }
        port = str(free_port())
        argv = [sys.executable, "-m", "bench.bare", mode, "--port", port]
        return self._spawn(name, argv, env)
