"""Rows the storage tests put in a ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from storage.models import Window, WindowEnvironment

T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def add_window(
    session: Session, state: str, envs: tuple[str, ...], start: datetime | None, **fields: object
) -> int:
    """A window on ``envs``, two hours from ``start`` (from its approval when ``start`` is
    None), requested a day before; ``fields`` set other columns or override these."""
    window = window_row(state, envs, start, **fields)
    session.add(window)
    session.flush()
    return window.id


def window_row(
    state: str, envs: tuple[str, ...], start: datetime | None, **fields: object
) -> Window:
    """The window ``add_window`` adds, not added to any session."""
    values: dict[str, object] = {
        "state": state,
        "requester_id": "U1",
        "reason": "",
        "requested_at": (start or T0) - DAY,
        "starts_at": start,
        "ends_at": start + timedelta(hours=2) if start else None,
        "duration_seconds": 7200,
        "time_zone": "UTC",
        **fields,
    }
    window = Window(**values)
    window.environments = [
        WindowEnvironment(environment=env, position=n) for n, env in enumerate(envs)
    ]
    return window
