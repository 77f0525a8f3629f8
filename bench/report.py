"""What every benchmark hands back, and how it is printed and written down."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    """One target of the issue and whether this run met it."""

    what: str
    measured: str
    target: str
    ok: bool


@dataclass
class Section:
    """One benchmark's figures: a table for people, the raw numbers for files."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        return {
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "checks": [c.__dict__ for c in self.checks],
            "notes": self.notes,
            "data": self.data,
        }

    def markdown(self) -> str:
        """The table, the targets met or missed, and the notes."""
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "---|" * len(self.columns))
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        if self.checks:
            lines += ["", "| target | measured | met |", "|---|---|---|"]
            lines.extend(
                f"| {c.what}: {c.target} | {c.measured} | {'yes' if c.ok else '**no**'} |"
                for c in self.checks
            )
        if self.notes:
            lines.append("")
            lines.extend(f"- {note}" for note in self.notes)
        return "\n".join(lines) + "\n"


def fmt(value: float, digits: int = 2) -> str:
    """A number for a table."""
    return f"{value:.{digits}f}"
