"""Starting `sis-maint` as a newcomer does, with no Slack credentials, on free local ports."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
URL_LINE = re.compile(r"open (http://127\.0\.0\.1:\d+/) in a browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def busy_port() -> Iterator[int]:
    """A loopback port something listens on, while in the block."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # strings, numbers and lists of strings read the same in TOML


def _toml(doc: dict[str, Any], prefix: str = "") -> list[str]:
    lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for key, table in ((k, v) for k, v in doc.items() if isinstance(v, dict)):
        name = f"{prefix}{key}"
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if scalars or not table:
            lines += ["", f"[{name}]", *_toml(scalars)]
        lines += _toml({k: v for k, v in table.items() if isinstance(v, dict)}, f"{name}.")
    return lines


def sandbox_config(folder: Path, simulator_port: int) -> Path:
    """The sandbox's own defaults, with the embedded simulator on ``simulator_port``."""
    doc = tomllib.loads(resources.files("bot").joinpath("default_config.toml").read_text())
    own = tomllib.loads(resources.files("bot.sandbox").joinpath("sandbox.toml").read_text())
    doc.update(own["settings"])
    for env in doc["environments"].values():
        env["base_url"] = f"http://127.0.0.1:{simulator_port}"
    doc["simulator"]["port"] = simulator_port
    path = folder / "sandbox-config.toml"
    path.write_text("\n".join(_toml(doc)) + "\n")
    return path


def cli_environ(**extra: str) -> dict[str, str]:
    """The test's environment without any Slack, configuration or database variable."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "SIS_MAINT_", "DATABASE_URL", "SANDBOX_PORT"))
    }
    return {**base, "LOG_LEVEL": "WARNING", **extra}


@dataclass
class Running:
    """A running `sis-maint serve` that fell back to the sandbox."""

    process: subprocess.Popen[str]
    url: str
    stdout: list[str]
    errors: list[str]

    @property
    def stderr(self) -> str:
        """What it wrote to stderr so far."""
        return "".join(self.errors)

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        _stop(self.process)
        return self.process.returncode


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_sandbox(folder: Path, *args: str) -> Iterator[Running]:
    """`sis-maint serve` with no Slack credentials, in ``folder``; yields once its URL is out."""
    config = sandbox_config(folder, free_port())
    env = cli_environ(SIS_MAINT_CONFIG=str(config), SANDBOX_PORT=str(free_port()))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port()), *args],
        cwd=folder,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []
    errors: list[str] = []

    def pump(stream: Any, into: list[str], signal: queue.Queue[str | None] | None) -> None:
        for line in stream:
            into.append(line)
            if signal is not None:
                signal.put(line)
        if signal is not None:
            signal.put(None)

    pumps = [
        threading.Thread(target=pump, args=(process.stdout, seen, lines), daemon=True),
        threading.Thread(target=pump, args=(process.stderr, errors, None), daemon=True),
    ]
    for thread in pumps:
        thread.start()
    url = None
    try:
        while url is None:
            line = lines.get(timeout=60)
            if line is None:
                process.wait(timeout=10)
                pumps[1].join(10)
                raise AssertionError(
                    f"sis-maint stopped before printing its URL:\n{''.join(errors)}"
                )
            found = URL_LINE.search(line)
            url = found.group(1) if found else None
        yield Running(process, url, seen, errors)
    finally:
        _stop(process)
        for thread in pumps:
            thread.join(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
