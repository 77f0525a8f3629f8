"""6. Memory of the serving process: idle, and over 10,000 requests.

The bot runs as ``sis-maint serve --http``; its resident set size (and the kernel's record of
its peak) is read from /proc after start-up and after each tenth of the requests (fewer on
short runs), once the work after the acknowledgements has finished. The requests cycle
through ``start``, ``status``, ``list`` and ``help``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bench.databases import fresh_database
from bench.load import send
from bench.report import Check, Section, fmt
from bench.slack import command_body
from bench.stack import Processes, Served, Services

COMMANDS = ("start prod 2h Benchmark", "status", "list", "help")
CONCURRENCY = 4
SETTLE = 0.5  # seconds to let background work finish before a reading
# Steady growth: the second half of the requests adds more than this per 1,000 requests.
GROWTH_LIMIT_KIB = 512


def _reading(served: Served, services: Services, starts: int) -> dict[str, int]:
    services.slack.wait_cards(starts)
    time.sleep(SETTLE)
    return served.memory()


def run(*, requests: int, kinds: Sequence[str]) -> Section:
    """Serve ``requests`` requests on each database and read the memory as it goes."""
    section = Section(
        "memory",
        f"6. Memory of the serving process, idle and over {requests:,} requests",
        ["database", "idle RSS MiB", "RSS after MiB", "peak RSS MiB",
         "growth, 2nd half, KiB per 1,000 requests", "RSS as the requests went (MiB)"],
    )  # fmt: skip
    for kind in kinds:
        with Services() as services, fresh_database(kind) as url, Processes() as procs:
            served = procs.bot(f"bot-{kind}", services, url)
            respond = services.slack.response_url("memory")
            idle = _reading(served, services, 0)
            readings: list[tuple[int, dict[str, int]]] = [(0, idle)]
            readings_wanted = max(2, min(10, requests // 20))  # tenths, or fewer on short runs
            step, sent, starts = max(1, requests // readings_wanted), 0, 0
            while sent < requests:
                count = min(step, requests - sent)
                base = sent

                def body(i: int, base: int = base, url: str = respond) -> str:
                    return command_body(COMMANDS[(base + i) % 4], base + i, url)

                send(served.url, body, count, CONCURRENCY)
                starts += sum(1 for i in range(base, base + count) if i % 4 == 0)
                sent += count
                readings.append((sent, _reading(served, services, starts)))
        half = next(r for n, r in readings if n >= requests // 2)
        last = readings[-1][1]
        done_in_half = requests - next(n for n, _ in readings if n >= requests // 2)
        growth = (last["rss_kib"] - half["rss_kib"]) / max(1, done_in_half) * 1000
        section.data[kind] = {
            "readings": [{"requests": n, **r} for n, r in readings],
            "growth_kib_per_1000_second_half": round(growth, 1),
        }
        section.rows.append(
            [kind, fmt(idle["rss_kib"] / 1024, 1), fmt(last["rss_kib"] / 1024, 1),
             fmt(last["peak_rss_kib"] / 1024, 1), fmt(growth, 0),
             " ".join(fmt(r["rss_kib"] / 1024, 1) for _, r in readings)]
        )  # fmt: skip
        section.checks.append(
            Check(f"memory on {kind}", f"{fmt(growth, 0)} KiB per 1,000 requests",
                  f"no steady growth (under {GROWTH_LIMIT_KIB} KiB per 1,000 over the 2nd half)",
                  growth < GROWTH_LIMIT_KIB)
        )  # fmt: skip
    section.notes.append(
        f"{CONCURRENCY} clients; RSS read from /proc/<pid>/status (VmRSS, VmHWM) after "
        "each tenth, once the cards of the `start` commands were posted."
    )
    return section
