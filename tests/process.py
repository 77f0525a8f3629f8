"""The bot as a separate process (`sis-maint serve`), for tests that kill it.

The Coursedog simulator and the Slack stand-in run in the test process, so they outlive the
bot; the ledger is a database both processes open.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import httpx
from sqlalchemy.orm import Session, sessionmaker

from bot.crashpoint import ENV as CRASH_ENV
from bot.sandbox.slack_api import SlackStandIn
from coursedog.simulator import SchoolState, Simulator
from storage.db import make_engine, make_sessions
from tests.harness import APPROVALS, APPROVER, APPROVER_2, EMAIL, PASSWORD, SIGNING_SECRET, Bot

SCHOOL = "state_u_prod"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eventually(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll until ``predicate()`` holds, or time out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def config_text(base_url: str) -> str:
    """One environment on the simulator; short intervals and leases so tests wait seconds."""
    return f"""
approvals_channel = "{APPROVALS}"
approvers = ["{APPROVER}", "{APPROVER_2}"]
reconcile_interval_seconds = 5
watchdog_interval_seconds = 86400
scheduler_poll_seconds = 0.1
action_lease_seconds = 2
environment_lease_seconds = 2

[environments.prod]
label = "Production"
base_url = "{base_url}"
school = "{SCHOOL}"
email_env = "CD_EMAIL"
password_env = "CD_PASSWORD"
driver = "api"

# No mail server: the comments go out at once, saying the notice is not sent yet.
[coursedog_notice]
comment_wait_seconds = 0
"""


class ProcessBot(Bot):
    """Signed requests to a bot in another process; its work is awaited with eventually()."""

    def __init__(self, url: str, slack: SlackStandIn, sim: Simulator) -> None:
        super().__init__(cast(Any, None), url, slack, sim, cast(Any, None))

    def settle(self, timeout: float = 10.0) -> bool:
        """Nothing of the bot runs in this process: callers poll for what they expect."""
        return True


class Stack:
    """Simulator, Slack stand-in, ledger, and the bot process (started and killed at will)."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.sim = Simulator(
            users={EMAIL: PASSWORD}, schools={SCHOOL: SchoolState(nightly=True, realtime=True)}
        )
        self.slack = SlackStandIn()
        self.config = workdir / "sis-maint.toml"
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0
        engine = make_engine(database_url)
        self._engine = engine
        self.sessions: sessionmaker[Session] = make_sessions(engine)
        self.bot: ProcessBot | None = None
        self.variables: dict[str, str] = {}  # more of the bot's environment

    def open(self) -> None:
        """Start the simulator and the Slack stand-in."""
        api_url = self.slack.start()
        self.config.write_text(config_text(self.sim.start()))
        self._api_url = api_url

    def start(self, crash_at: str | None = None) -> ProcessBot:
        """Start `sis-maint serve`; with ``crash_at`` it kills itself at that point."""
        assert self.process is None or self.process.poll() is not None
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SIS_MAINT_CONFIG": str(self.config),
            "DATABASE_URL": self.database_url,
            "SLACK_BOT_TOKEN": self.slack.token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self._api_url,
            "CD_EMAIL": EMAIL,
            "CD_PASSWORD": PASSWORD,
            "LOG_LEVEL": "INFO",
            **self.variables,
        }
        if crash_at:
            env[CRASH_ENV] = crash_at
        self.runs += 1
        log = (self.workdir / f"bot-{self.runs}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--http", "--port", str(port)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        url = f"http://127.0.0.1:{port}"
        assert eventually(lambda: self._healthy(url), timeout=30), self.log()
        if self.bot is not None:
            self.bot.http.close()
        self.bot = ProcessBot(f"{url}/slack/events", self.slack, self.sim)
        return self.bot

    def _healthy(self, url: str) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log()}")
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def killed(self, timeout: float = 30.0) -> bool:
        """Wait for the bot to kill itself at its crash point."""
        assert self.process is not None
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return code == -signal.SIGKILL

    def log(self) -> str:
        """The latest run's output."""
        path = self.workdir / f"bot-{self.runs}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        """Stop the bot (if running) and everything else."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.bot is not None:
            self.bot.http.close()
        self.sim.stop()
        self.slack.stop()
        self._engine.dispose()


@contextmanager
def stack(database_url: str, workdir: Path) -> Iterator[Stack]:
    """A Stack, closed afterwards whatever happens."""
    running = Stack(database_url, workdir)
    try:
        running.open()
        yield running
    finally:
        running.close()
