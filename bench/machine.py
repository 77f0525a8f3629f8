"""What the figures were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.databases import POSTGRES_URL, postgres_problem
from storage.db import make_engine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _postgres_version() -> str:
    if postgres_problem() is not None:
        return "unreachable"
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH is fine here
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def load() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait


def wait_quiet(*, idle: float = 0.9, step: float = 0.5, limit: float = 90.0) -> dict[str, float]:
    """Wait until the CPUs are at least ``idle`` idle over two steps in a row (what the last
    benchmark left running, e.g. PostgreSQL's autovacuum, has finished), ``limit`` s at most.

    Returns the seconds waited and the idle share of the last step, to be recorded.
    """
    began = time.monotonic()
    quiet_steps, share = 0, 0.0
    before = _cpu_times()
    while quiet_steps < 2 and time.monotonic() - began < limit:
        time.sleep(step)
        after = _cpu_times()
        spent = after[1] - before[1]
        share = (after[0] - before[0]) / spent if spent else 1.0
        quiet_steps = quiet_steps + 1 if share >= idle else 0
        before = after
    return {"waited_s": round(time.monotonic() - began, 1), "idle": round(share, 2)}


def describe() -> dict[str, Any]:
    """CPU, cores, memory, versions, date and the load when asked."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "commit": _commit(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
