"""Runs of the same benchmarks side by side, e.g. the bot at two commits.

``python -m bench.sides --out OUT --side on=WORKTREE --side off=WORKTREE [--times 2] ARGS``
runs ``python -m bench ARGS`` in each worktree in turn (``1-on``, ``1-off``, ``2-on``,
``2-off``: a change in the machine's load then falls on both sides), each into ``OUT/N-side``,
then prints their figures; ``python -m bench.sides DIR ...`` prints those of runs made before.

The figures: for each run and then for each side (the median of its runs), the load average
before and after and: `start` p50 and p99 at each concurrency, with its p99 over the defaults
app's and `help`'s p99 over the floor's (benchmark 1); approve → verified and end → restored
at the median (benchmark 2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median
from typing import Any

from bench import machine
from bench.ack import DEFAULT, FLOOR

ACK = ["`start` p50", "`start` p99", "p99 / defaults", "`help` p99 / floor"]
LIFECYCLE = ["approve → verified", "end → restored"]

Rows = dict[tuple[str, str], list[float]]  # (database, concurrency or "") -> figures


def _ack(data: dict[str, Any]) -> Rows:
    rows: Rows = {}
    for key, apps in data.items():
        if not key.startswith("concurrency_"):
            continue
        floor = apps[FLOOR]["p99_ms"]
        for label, start in apps.items():
            if label in (DEFAULT, FLOOR) or "`help`" in label:
                continue
            db = label.removeprefix("sis-maint on ")
            helped = apps[f"{label}, `help` (no ledger write)"]["p99_ms"] / floor
            rows[(db, key.removeprefix("concurrency_"))] = [
                start["p50_ms"], start["p99_ms"], start["p99_over_defaults"], helped
            ]  # fmt: skip
    return rows


def _lifecycle(data: dict[str, Any]) -> Rows:
    return {
        (db, ""): [median(figures["approve_to_verified_ms"]), median(figures["end_to_verified_ms"])]
        for db, figures in data.items()
        if isinstance(figures, dict) and "approve_to_verified_ms" in figures
    }


def _side(name: str) -> str:
    return re.sub(r"^\d+-", "", name)


def _table(columns: list[str], runs: list[tuple[str, str, Rows]]) -> list[str]:
    by = (
        ["database", "concurrency"]
        if any(c for _, _, rows in runs for _, c in rows)
        else ["database"]
    )
    head = ["run", "load before → after", *by, *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, load, rows in runs:
        for row, figures in sorted(rows.items()):
            cells = [name, load, *row[: len(by)], *(f"{f:.2f}" for f in figures)]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def tables(dirs: Sequence[Path]) -> str:
    """The figures of each run, then each side's median of them, as Markdown tables."""
    out: list[str] = []
    for key, columns, read in (("ack", ACK, _ack), ("lifecycle", LIFECYCLE, _lifecycle)):
        runs: list[tuple[str, str, Rows]] = []
        for d in dirs:
            results = json.loads((d / "latest.json").read_text())
            if key in results["sections"]:
                m = results["machine"]
                load = f"{m['load_before'][0]:.2f} → {m['load_after'][0]:.2f}"
                runs.append((d.name, load, read(results["sections"][key]["data"])))
        if not runs:
            continue
        sides: dict[str, list[Rows]] = defaultdict(list)
        for name, _, rows in runs:
            sides[_side(name)].append(rows)
        medians = [
            (side, f"{len(all_rows)} runs", {
                row: [median(r[row][i] for r in all_rows) for i in range(len(columns))]
                for row in all_rows[0] if all(row in r for r in all_rows)
            })
            for side, all_rows in sides.items()
        ]  # fmt: skip
        out += [f"## {key}: each run (ms)", "", *_table(columns, runs), ""]
        out += [f"## {key}: each side, the median of its runs", "", *_table(columns, medians), ""]
    return "\n".join(out)


def run_sides(
    out: Path,
    sides: Sequence[tuple[str, Path]],
    times: int,
    args: Sequence[str],
    *,
    run: Callable[..., Any] = subprocess.run,
) -> list[Path]:
    """Each side's ``python -m bench args`` in its worktree, in turn, ``times`` times; the
    directories written."""
    dirs = []
    for n in range(1, times + 1):
        for name, worktree in sides:
            where = out / f"{n}-{name}"
            print(f"{time.strftime('%H:%M:%S')} {where.name}, load {machine.load()}", flush=True)
            where.mkdir(parents=True, exist_ok=True)
            with (out / f"{where.name}.log").open("wb") as log:
                run(
                    [sys.executable, "-m", "bench", "--no-docs", "--out", str(where), *args],
                    cwd=worktree,
                    env={**os.environ, "PYTHONPATH": str(worktree)},  # that worktree's code
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=True,
                )
            dirs.append(where)
    return dirs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sides and print their figures, or print those of the runs named."""
    p = argparse.ArgumentParser(
        prog="python -m bench.sides", description=__doc__, allow_abbrev=False
    )
    p.add_argument("--out", type=Path, help="where the runs write (with --side)")
    p.add_argument("--side", action="append", default=[], help="NAME=WORKTREE, in turn")
    p.add_argument("--times", type=int, default=2, help="runs of each side (default 2)")
    args, rest = p.parse_known_args(argv)
    if args.side:
        if args.out is None:
            p.error("--side needs --out")
        sides = [(name, Path(path).resolve()) for name, _, path in
                 (side.partition("=") for side in args.side)]  # fmt: skip
        dirs = run_sides(args.out, sides, args.times, rest)
    else:
        dirs = [Path(d) for d in rest]
    if not dirs:
        p.print_usage(sys.stderr)
        return 2
    print(tables(dirs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
