"""Blackout periods: spans in which nobody may take the SIS integration down.

A period comes from the configuration file (``[[blackouts]]``) or from an approver's
``blackout add``; both become a ``Blackout``. Spans are half-open, ``[start, end)``: a window
that ends when a period begins does not overlap it. A period given by dates covers whole
days in its zone, the end day included.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.domain.recurrence import pin
from bot.domain.timefmt import local_time

CONFIG_PREFIX = "config:"


@dataclass(frozen=True)
class Blackout:
    """One period; ``key`` is ``B-<n>`` for the ledger's, ``config:<name>`` for the file's."""

    key: str
    name: str
    starts_at: datetime
    ends_at: datetime
    zone: str
    environments: tuple[str, ...] = ()  # empty: every environment
    # When the period was added or last changed (the ledger's; None until it is known).
    changed_at: datetime | None = None

    @property
    def from_config(self) -> bool:
        """Whether the period is defined in the configuration file."""
        return self.key.startswith(CONFIG_PREFIX)

    def covers(self, environment: str) -> bool:
        """Whether the period applies to ``environment``."""
        return not self.environments or environment in self.environments

    def overlaps(self, environments: Iterable[str], start: datetime, end: datetime) -> bool:
        """Whether ``[start, end)`` on any of ``environments`` falls in the period."""
        return (
            any(self.covers(env) for env in environments)
            and start < self.ends_at
            and self.starts_at < end
        )

    def fingerprint(self) -> str:
        """A digest of what the period is: it changes when its name, span, zone or
        environments do."""
        spec = [
            self.name,
            self.starts_at.isoformat(),
            self.ends_at.isoformat(),
            self.zone,
            list(self.environments),
        ]
        return hashlib.sha256(json.dumps(spec).encode()).hexdigest()

    def where(self) -> str:
        """``all environments`` or ``prod, staging``."""
        return ", ".join(self.environments) if self.environments else "all environments"

    def describe(self) -> str:
        """``Registration opening (Mon 11 Jan 2027 00:00 EST (UTC-05:00) to ..., all ...)``."""
        return (
            f"{self.name} ({local_time(self.starts_at, self.zone)} to "
            f"{local_time(self.ends_at, self.zone)}, {self.where()})"
        )


def span_of(start: date | datetime, end: date | datetime, zone: str) -> tuple[datetime, datetime]:
    """Local dates or date-times as instants: a date starts at 00:00; an end date is included
    whole (the period ends at 00:00 the next day)."""
    return _instant(start, zone, end=False), _instant(end, zone, end=True)


def _instant(value: date | datetime, zone: str, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value
        return pin(value.date(), value.time(), zone)[0]
    day = value + timedelta(days=1) if end else value
    return pin(day, time(0), zone)[0]


def overlapping(
    blackouts: Iterable[Blackout], environments: Sequence[str], start: datetime, end: datetime
) -> list[Blackout]:
    """The periods that ``[start, end)`` on ``environments`` falls in, earliest first."""
    hits = [b for b in blackouts if b.overlaps(environments, start, end)]
    return sorted(hits, key=lambda b: (b.starts_at, b.key))


def parse_blackout_id(text: str) -> int | None:
    """``B-3`` (any case, dash optional) -> 3; anything else -> None."""
    word = text.strip().lower()
    if not word.startswith("b"):
        return None
    word = word.removeprefix("b").removeprefix("-")
    return int(word) if word.isdigit() and 0 < len(word) <= 9 else None
