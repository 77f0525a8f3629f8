"""Rows written straight into a bare ledger, for tests below the services."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage.models import Window, WindowEnvironment


def add_window(s: Session, state: str, rows: dict[str, str], *, at: datetime) -> int:
    """A two-hour window from ``at`` in ``state``, with one row per environment in the status
    given (``{"prod": "off"}``); its number."""
    window = Window(
        state=state, requester_id="U1", reason="patch", requested_at=at, starts_at=at,
        ends_at=at + timedelta(hours=2), duration_seconds=7200, time_zone="UTC",
    )  # fmt: skip
    window.environments = [
        WindowEnvironment(environment=env, position=n, status=status)
        for n, (env, status) in enumerate(rows.items())
    ]
    s.add(window)
    s.flush()
    return window.id
