"""5. Replicas: 1 and 3 bot processes on one PostgreSQL draining due actions.

Each process runs the bot's Scheduler (bench.replica). Every action waits on simulated I/O and
commits an audit row inside its lease. Exactly once is checked three ways: which process ran
which action, the lease epochs and attempts in the ledger, and one audit row per action.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bench.databases import fresh_database
from bench.replica import KIND
from bench.report import Check, Section, fmt
from bench.stack import ROOT
from storage.db import make_engine
from storage.models import AuditEvent, DueAction

TARGET = 1.8


def _plan(url: str, count: int) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC)
    rows = [
        {"kind": KIND, "due_at": now - timedelta(seconds=1), "status": "pending", "attempts": 0,
         "lease_epoch": 0, "dedup_key": f"{KIND}:{i}", "created_at": now}
        for i in range(count)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(DueAction), rows)
    engine.dispose()


def _drain(url: str, processes: int, io: float) -> tuple[float, list[dict[str, Any]]]:
    """Start the replicas, let them go together; seconds until the last finished, and each
    replica's report (what it ran, its CPU seconds)."""
    argv = [sys.executable, "-m", "bench.replica", "--url", url, "--io", str(io), "--owner"]
    procs = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*argv, f"replica-{i + 1}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(processes)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a replica did not start")
        start = time.monotonic()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        reports = []
        for proc in procs:
            out, _ = proc.communicate(timeout=3600)
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return max(r["finished"] for r in reports) - start, reports


def _exactly_once(url: str, count: int, ran: list[list[int]]) -> tuple[bool, str]:
    runs = Counter(i for batch in ran for i in batch)
    engine = make_engine(url)
    with engine.begin() as conn:
        states = conn.execute(
            select(DueAction.status, DueAction.attempts, DueAction.lease_epoch, func.count())
            .where(DueAction.kind == KIND)
            .group_by(DueAction.status, DueAction.attempts, DueAction.lease_epoch)
        ).all()
        effects = conn.execute(
            select(AuditEvent.detail, func.count()).where(AuditEvent.action == KIND)
            .group_by(AuditEvent.detail)
        ).all()  # fmt: skip
    engine.dispose()
    ledger = [(str(status), *rest) for status, *rest in states]  # the status as stored
    ok = (
        len(runs) == count
        and set(runs.values()) == {1}
        and ledger == [("done", 1, 1, count)]
        and len(effects) == count
        and {n for _, n in effects} == {1}
    )
    detail = (
        f"{len(runs)} actions run, most often {max(runs.values(), default=0)}x; ledger "
        f"{ledger}; {len(effects)} effects"
    )
    return ok, detail


def run(*, actions: int, io: float, counts: Sequence[int] = (1, 3)) -> Section:
    """Drain ``actions`` with each number of replicas, on a fresh PostgreSQL schema each."""
    section = Section(
        "replicas",
        f"5. Replicas on one PostgreSQL draining {actions:,} due actions ({io * 1000:g} ms "
        "of I/O each)",
        [
            "replicas",
            "seconds",
            "actions per second",
            "actions per replica",
            "replica CPU ms per action",
            "exactly once",
        ],
    )
    throughput: dict[int, float] = {}
    for processes in counts:
        with fresh_database("postgresql") as url:
            _plan(url, actions)
            seconds, reports = _drain(url, processes, io)
            ran = [r["ran"] for r in reports]
            ok, detail = _exactly_once(url, actions, ran)
        throughput[processes] = actions / seconds
        cpu = sum(r["cpu"] for r in reports) / actions
        section.data[str(processes)] = {
            "seconds": round(seconds, 3),
            "per_replica": [len(r) for r in ran],
            "cpu_ms_per_action": round(cpu * 1000, 3),
            "exactly_once": ok,
            "detail": detail,
        }
        section.rows.append(
            [str(processes), fmt(seconds), fmt(throughput[processes], 1),
             ", ".join(str(len(r)) for r in ran), fmt(cpu * 1000),
             "yes" if ok else f"**no**: {detail}"]
        )  # fmt: skip
        section.checks.append(
            Check(f"{processes} replica(s)", detail, "each action runs exactly once", ok)
        )
    low, high = min(counts), max(counts)
    ratio = throughput[high] / throughput[low]
    section.checks.append(
        Check(f"throughput, {high} vs {low}", f"{fmt(ratio)}x", f"at least {TARGET}x",
              ratio >= TARGET)
    )  # fmt: skip
    section.data["ratio"] = round(ratio, 3)
    section.notes.append(
        "Each replica runs the bot's Scheduler (claims in batches of 50 with FOR UPDATE SKIP "
        "LOCKED); the actions belong to no window or environment, so they form one lane and "
        "each replica runs them one at a time. The I/O is a sleep, as a wait on the network is."
    )
    return section
