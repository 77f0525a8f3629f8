"""Writing the figures down: JSON and Markdown files, and the results section of the docs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.report import Section

BEGIN = "<!-- bench results: written by `make bench`, do not edit by hand -->"
END = "<!-- end of bench results -->"
HIGH_LOAD = 0.5  # load average per core above which the figures are marked as noisy


def machine_markdown(about: dict[str, Any], counts: dict[str, Any], *, full: bool) -> str:
    """The machine, the load and the counts, as a table and a note."""
    before, after = about["load_before"], about["load_after"]
    rows = [
        ("CPU", f"{about['cpu']}, {about['cores']} cores"),
        ("memory", f"{about['memory_gib']} GiB"),
        ("system", about["os"]),
        ("Python", about["python"]),
        ("SQLite", about["sqlite"]),
        ("PostgreSQL", about["postgresql"]),
        ("commit", about["commit"]),
        ("date", about["date"]),
        ("load average (1, 5, 15 min)", f"before {before}, after {after}"),
        ("run", f"{'full' if full else 'reduced'} counts, {about['seconds']:g} s"),
    ]
    lines = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    cores = about["cores"] or 1
    # Only the load before the run tells of other work: the run's own processes raise the
    # load after it.
    if max(before[0], before[1]) / cores > HIGH_LOAD:
        lines += [
            "",
            f"**The machine was busy** (load average {max(before[0], before[1]):g} on "
            f"{cores} cores before the run, from other work): absolute times are inflated and "
            "noisy. The ratios compare apps measured in the same run and suffer less.",
        ]
    lines += ["", "Counts: " + ", ".join(f"{k} {v:g}" for k, v in counts.items())]
    return "\n".join(lines) + "\n"


def write_results(
    out: Path,
    about: dict[str, Any],
    counts: dict[str, Any],
    sections: Sequence[Section],
    *,
    full: bool,
) -> list[Path]:
    """latest.json (every figure) and latest.md (the tables); returns both paths."""
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": about,
        "counts": counts,
        "full": full,
        "sections": {s.key: s.as_json() for s in sections},
    }
    json_path, md_path = out / "latest.json", out / "latest.md"
    json_path.write_text(json.dumps(data, indent=1) + "\n")
    body = [machine_markdown(about, counts, full=full), *(s.markdown() for s in sections)]
    md_path.write_text("\n".join(body))
    return [json_path, md_path]


def write_docs(docs: Path, tables: Path) -> None:
    """Put the tables between the markers of ``docs`` (appended if the markers are missing)."""
    text = docs.read_text() if docs.exists() else ""
    block = f"{BEGIN}\n\n{tables.read_text().rstrip()}\n\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        docs.write_text(head + block + tail)
    else:
        docs.write_text(text.rstrip() + ("\n\n" if text else "") + block + "\n")
