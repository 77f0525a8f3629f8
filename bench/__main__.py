"""Run the benchmarks: ``python -m bench`` (``make bench``); ``--help`` for smaller runs.

Prints each table as it is measured, then writes bench/results/latest.json and latest.md and,
after a full run, the results section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench import ack, groups, history, lateness, lifecycle, machine, memory, replicas
from bench.databases import KINDS, postgres_problem
from bench.report import Section
from bench.results import write_docs, write_results

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Counts:
    """How much each benchmark does."""

    ack_requests: int = 2000
    ack_rounds: int = 10
    lifecycle_windows: int = 20
    latency: float = 0.05
    lateness_actions: int = 1000
    lateness_span: float = 60.0
    history_small: int = 100
    history_large: int = 100_000
    history_repeats: int = 200
    replica_actions: int = 10_000
    replica_io: float = 0.01
    memory_requests: int = 10_000
    group_size: int = 50
    group_windows: int = 5
    group_acks: int = 200


FULL = Counts()
SMALL = Counts(
    ack_requests=400, ack_rounds=4, lifecycle_windows=5, lateness_actions=200,
    lateness_span=12.0, history_large=10_000, history_repeats=50, replica_actions=1000,
    memory_requests=2000, group_windows=2, group_acks=50,
)  # fmt: skip
TINY = Counts(
    ack_requests=6, ack_rounds=2, lifecycle_windows=1, latency=0.01, lateness_actions=8,
    lateness_span=1.0, history_small=5, history_large=40, history_repeats=2,
    replica_actions=30, replica_io=0.001, memory_requests=40, group_size=5, group_windows=1,
    group_acks=4,
)  # fmt: skip

Runner = Callable[[Counts, Sequence[str]], Section]
RUNNERS: dict[str, Runner] = {
    "ack": lambda c, kinds: ack.run(
        requests=c.ack_requests, rounds=c.ack_rounds, concurrencies=(1, 16), kinds=kinds
    ),
    "lifecycle": lambda c, kinds: lifecycle.run(
        windows=c.lifecycle_windows, latency=c.latency, kinds=kinds
    ),
    "lateness": lambda c, kinds: lateness.run(
        actions=c.lateness_actions, span=c.lateness_span, kinds=kinds
    ),
    "history": lambda c, kinds: history.run(
        sizes=(c.history_small, c.history_large), repeats=c.history_repeats, kinds=kinds
    ),
    "replicas": lambda c, kinds: replicas.run(actions=c.replica_actions, io=c.replica_io),
    "memory": lambda c, kinds: memory.run(requests=c.memory_requests, kinds=kinds),
    "groups": lambda c, kinds: groups.run(
        size=c.group_size,
        windows=c.group_windows,
        acks=c.group_acks,
        latency=c.latency,
        kinds=kinds,
    ),
}


def parser() -> argparse.ArgumentParser:
    """The options."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--only", default=",".join(RUNNERS), help=f"some of {','.join(RUNNERS)}")
    p.add_argument("--db", default=",".join(KINDS), help="sqlite, postgresql or both")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true", help="about a tenth of the full counts")
    size.add_argument("--tiny", action="store_true", help="a few of each (a smoke run)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    p.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    p.add_argument(
        "--no-docs", action="store_true", help="leave docs/performance.md alone (a full run "
        "writes its results section; other runs never do)"
    )  # fmt: skip
    for field, default in asdict(FULL).items():
        kind = float if isinstance(default, float) else int
        p.add_argument(f"--{field.replace('_', '-')}", type=kind, default=None,
                       help=f"default {default}")  # fmt: skip
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print, write."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    preset = TINY if args.tiny else SMALL if args.small else FULL
    counts = replace(preset, **{
        f: getattr(args, f) for f in asdict(FULL) if getattr(args, f) is not None
    })  # fmt: skip
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    kinds = [kind.strip() for kind in args.db.split(",") if kind.strip()]
    unknown = sorted(set(only) - set(RUNNERS)) + sorted(set(kinds) - set(KINDS))
    if unknown:
        print(f"bench: unknown benchmark or database: {', '.join(unknown)}", file=sys.stderr)
        return 2
    problem = postgres_problem() if "postgresql" in kinds or "replicas" in only else None
    if problem is not None:
        print(f"bench: PostgreSQL is needed and unreachable ({problem}); use --db sqlite "
              "and leave out replicas", file=sys.stderr)  # fmt: skip
        return 2
    about = machine.describe()
    about["load_before"] = machine.load()
    print(f"sis-maint benchmarks on {about['cpu']} ({about['cores']} cores), load "
          f"{about['load_before']}", flush=True)  # fmt: skip
    sections = []
    started = time.monotonic()
    for name in only:
        # Each benchmark starts on an idle machine, but for a smoke run's, whose figures mean
        # nothing (the test suite runs one while other tests keep the CPUs busy).
        quiet = None if preset is TINY else machine.wait_quiet()
        waited = "a smoke run: no wait for idle CPUs" if quiet is None else (
            f"waited {quiet['waited_s']} s for idle CPUs: {quiet['idle']:.0%} idle")  # fmt: skip
        print(f"\n== {name} … ({waited})", flush=True)
        began = time.monotonic()
        section = RUNNERS[name](counts, kinds)
        section.data["seconds"] = round(time.monotonic() - began, 1)
        section.data["quiet_before"] = quiet
        sections.append(section)
        print(section.markdown(), flush=True)
    about["load_after"] = machine.load()
    about["seconds"] = round(time.monotonic() - started, 1)
    full = preset is FULL and set(only) == set(RUNNERS) and set(kinds) == set(KINDS)
    files = write_results(args.out, about, asdict(counts), sections, full=full)
    print("\nwrote " + ", ".join(str(f) for f in files))
    if full and not args.no_docs:
        write_docs(args.docs, files[1])
        print(f"updated the results section of {args.docs}")
    missed = [f"{s.key}: {c.what} ({c.measured}; {c.target})" for s in sections
              for c in s.checks if not c.ok]  # fmt: skip
    print("\nAll targets met." if not missed else "\nMissed:\n  " + "\n  ".join(missed))
    print(json.dumps({"load_before": about["load_before"], "load_after": about["load_after"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
