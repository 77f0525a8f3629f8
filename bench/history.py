"""4. What history costs: a scheduler pass, a worker pass (and its periodic watchdog pass) and
``status``, with 100 and with 100,000 past windows in the ledger.

Both ledgers are built side by side (past windows in bulk, then the present through the
services: one active window holding prod, one request waiting for tomorrow), and the passes
are timed in alternation, so that the machine's load falls on both alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.databases import fresh_database
from bench.history_fill import fill
from bench.inprocess import runtime
from bench.report import Check, Section, fmt
from bench.slack import APPROVER, REQUESTER
from bench.stack import Services
from bench.stats import median, ms, percentile
from bot.run.runtime import Runtime
from bot.services.status import StatusService

ENVIRONMENTS = ["prod", "staging"]


def _present(rt: Runtime) -> None:
    """Today's ledger on top of the past: an active window that switched prod off, a request."""
    view = rt.windows.request(
        requester=REQUESTER, environments=["prod"], duration=timedelta(hours=2), reason="Now"
    ).view
    rt.windows.approve(window_id=view.id, approver=APPROVER)
    rt.worker.run_once(["prod"])
    rt.scheduler.run_due()
    tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    rt.windows.request(
        requester=REQUESTER,
        environments=["staging"],
        duration=timedelta(hours=1),
        reason="Tomorrow",
        starts_at=tomorrow,
    )


def _operations(rt: Runtime) -> dict[str, Callable[[], Any]]:
    status = StatusService(rt.sessions, rt.clients)

    def scheduler_pass() -> None:
        rt.scheduler.run_due()
        rt.scheduler.seconds_until_next()

    return {
        "scheduler pass": scheduler_pass,
        "worker pass": rt.worker.run_once,
        "watchdog pass": rt.worker.watch,
        "status": lambda: status.environments(ENVIRONMENTS),
    }


def run(*, sizes: Sequence[int], repeats: int, kinds: Sequence[str]) -> Section:
    """Time each operation ``repeats`` times on ledgers of each size, alternating."""
    small, large = sizes
    section = Section(
        "history",
        f"4. Cost with {small:,} and with {large:,} past windows in the ledger",
        ["database", "operation", f"median ms, {small:,}", f"median ms, {large:,}",
         f"p90 ms, {small:,}", f"p90 ms, {large:,}", "ratio of medians"],
    )  # fmt: skip
    for kind in kinds:
        with ExitStack() as stack:
            timed: dict[int, dict[str, Callable[[], Any]]] = {}
            rows: dict[int, dict[str, int]] = {}
            for size in sizes:
                services = stack.enter_context(Services())
                url = stack.enter_context(fresh_database(kind))
                rt = runtime(services, url, f"bench-history-{size}")
                stack.callback(rt.stop)
                rows[size] = fill(rt.engine, size)
                _present(rt)
                timed[size] = _operations(rt)
            samples: dict[tuple[int, str], list[float]] = {}
            for _ in range(repeats):
                for size in sizes:
                    for name, operation in timed[size].items():
                        start = time.perf_counter()
                        operation()
                        samples.setdefault((size, name), []).append(time.perf_counter() - start)
        section.data[kind] = {"rows": rows, "ms": {}}
        for name in timed[small]:
            a, b = samples[(small, name)], samples[(large, name)]
            ratio = median(b) / median(a)
            section.data[kind]["ms"][name] = {
                str(small): [ms(s) for s in a],
                str(large): [ms(s) for s in b],
            }
            section.rows.append(
                [kind, name, fmt(median(a) * 1000), fmt(median(b) * 1000),
                 fmt(percentile(a, 90) * 1000), fmt(percentile(b, 90) * 1000), fmt(ratio)]
            )  # fmt: skip
            section.checks.append(
                Check(f"{name} on {kind}", f"{fmt(ratio)}x", "under 2x", ratio < 2.0)
            )
    section.notes += [
        f"Each operation was timed {repeats} times per ledger, the two ledgers alternating.",
        "The worker pass reconciles the one environment a window holds (a read of the local "
        "simulator, no write); the watchdog pass (every 5 minutes) reads every environment and "
        "looks up its last report; status reads both environments from the simulator.",
    ]
    return section
