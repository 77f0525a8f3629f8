"""Runs side by side (bench.sides): each run's figures, and each side's median of its runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from bench import ack, sides
from bench.load import Answer, Load
from bench.report import Section
from bench.stack import Served

START = "sis-maint on sqlite"
HELP = f"{START}, `help` (no ledger write)"


def load(ms: float) -> Load:
    body = json.dumps({"text": "Requested MW-1"}).encode()
    return Load([Answer(ms / 1000, 200, body) for _ in range(10)])


def run(out: Path, name: str, start_ms: float, approve_ms: list[float]) -> Path:
    """A run's latest.json: the ack figures as bench.ack records them, and lifecycle's."""
    section = Section("ack", "", [])
    apps = [ack.App(label, cast(Served, None), checked=label == START)
            for label in (ack.DEFAULT, ack.FLOOR, START, HELP)]  # fmt: skip
    ms = {ack.DEFAULT: 10.0, ack.FLOOR: 0.5, START: start_ms, HELP: 1.0}
    for concurrency in (1, 16):
        ack._record(section, {label: load(ms[label]) for label in ms}, apps, concurrency)
    lifecycle = {"sqlite": {"approve_to_verified_ms": approve_ms, "end_to_verified_ms": [150.0]}}
    results = {
        "machine": {"load_before": [0.5, 0.4, 0.3], "load_after": [1.0, 0.5, 0.3]},
        "sections": {
            "ack": section.as_json(),
            "lifecycle": {"data": {**lifecycle, "seconds": 3.0, "quiet_before": None}},
        },
    }
    (out / name).mkdir()
    (out / name / "latest.json").write_text(json.dumps(results))
    return out / name


def test_each_run_and_the_median_of_each_sides_runs(tmp_path: Path) -> None:
    dirs = [
        run(tmp_path, "1-on", 4.0, [170.0, 180.0, 190.0]),
        run(tmp_path, "1-off", 8.0, [200.0]),
        run(tmp_path, "2-on", 6.0, [176.0]),
        run(tmp_path, "2-off", 9.0, [210.0]),
    ]
    lines = sides.tables(dirs).splitlines()
    # Each run: start p50, p99, p99 over the defaults app's, help's p99 over the floor's.
    assert "| 1-on | 0.50 → 1.00 | sqlite | 16 | 4.00 | 4.00 | 0.40 | 2.00 |" in lines
    assert "| 2-off | 0.50 → 1.00 | sqlite | 1 | 9.00 | 9.00 | 0.90 | 2.00 |" in lines
    assert "| 1-on | 0.50 → 1.00 | sqlite | 180.00 | 150.00 |" in lines  # medians
    # Each side: the median of its runs.
    assert "| on | 2 runs | sqlite | 1 | 5.00 | 5.00 | 0.50 | 2.00 |" in lines
    assert "| off | 2 runs | sqlite | 16 | 8.50 | 8.50 | 0.85 | 2.00 |" in lines
    assert "| on | 2 runs | sqlite | 178.00 | 150.00 |" in lines
    assert "| off | 2 runs | sqlite | 205.00 | 150.00 |" in lines


def test_the_sides_run_in_turn_each_in_its_worktree(tmp_path: Path) -> None:
    calls: list[tuple[list[str], Path, str]] = []

    def bench(argv: list[str], *, cwd: Path, env: dict[str, str], **_: object) -> None:
        calls.append((argv[argv.index("--out") + 1 :], cwd, env["PYTHONPATH"]))

    worktrees = [("on", tmp_path / "a"), ("off", tmp_path / "b")]
    dirs = sides.run_sides(tmp_path / "out", worktrees, 2, ["--only", "ack"], run=bench)
    assert [d.name for d in dirs] == ["1-on", "1-off", "2-on", "2-off"]
    assert calls[1] == ([str(tmp_path / "out" / "1-off"), "--only", "ack"],
                        tmp_path / "b", str(tmp_path / "b"))  # fmt: skip
    assert [cwd.name for _, cwd, _ in calls] == ["a", "b", "a", "b"]


def test_without_runs_it_says_how_to_use_it() -> None:
    assert sides.main([]) == 2
