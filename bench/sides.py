"""Runs of the same benchmarks side by side: ``python -m bench.sides DIR ...``.

Each DIR is the ``--out`` of one run (its latest.json), typically of the bot at two commits
measured in turn (``1-on``, ``1-off``, ``2-on``, ``2-off``: a change in the machine's load then
falls on both). Prints, for each run and then for each side (the DIR's name without a leading
``N-``, the median of its runs), the load average before and after and: `start` p50 and p99 at
each concurrency, with its p99 over the defaults app's and `help`'s p99 over the floor's
(benchmark 1); approve → verified and end → restored at the median (benchmark 2).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any

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
    head = ["run", "load before → after", "database", "concurrency", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, load, rows in runs:
        for (db, c), figures in sorted(rows.items()):
            cells = [name, load, db, c or "-", *(f"{f:.2f}" for f in figures)]
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


def main(argv: Sequence[str] | None = None) -> int:
    """Print the tables of the runs named on the command line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    print(tables([Path(a) for a in args]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
