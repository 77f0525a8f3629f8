"""Decisions read under a lock see what the transaction they waited for committed.

On PostgreSQL, at READ COMMITTED, a statement that waits for a row lock returns the locked row
as it is once the wait is over, but everything else it reads (rows joined to it, other tables)
as it was when the statement began. Each test holds a lock in one transaction, starts a second
that needs it, and commits the first while the second waits.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.config import parse_settings
from bot.errors import Conflict
from bot.services.windows import WindowService
from storage import windows
from storage.models import Baseline
from tests.harness import APPROVER, APPROVER_2, ManualClock, settings_document
from tests.ledger_rows import add_window
from tests.lock_waits import behind_lock

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def _window(sessions: sessionmaker[Session], state: str, rows: dict[str, str]) -> int:
    with sessions.begin() as s:
        return add_window(s, state, rows, at=NOW)


def test_a_window_locked_after_a_wait_comes_with_its_environments_as_committed(
    sessions: sessionmaker[Session],
) -> None:
    window_id = _window(sessions, "failed", {"prod": "failed", "staging": "failed"})

    def statuses() -> dict[str, str]:
        with sessions.begin() as s:
            window = windows.get_window(s, window_id, lock=True)
            assert window is not None
            return {row.environment: row.status for row in window.environments}

    with sessions.begin() as s:  # a pass on prod: its row is off now
        window = windows.get_window(s, window_id, lock=True)
        assert window is not None
        window.environments[0].status = "off"
        s.flush()
        seen = behind_lock(s, statuses)
    # A pass on staging that read prod's row as still failed would mark the window wrongly.
    assert seen.result(timeout=10) == {"prod": "off", "staging": "failed"}


def test_of_two_choices_after_a_saved_state_change_the_second_finds_the_first(
    sessions: sessionmaker[Session],
) -> None:
    settings = parse_settings(settings_document("http://127.0.0.1:9"))
    service = WindowService(settings, sessions, ManualClock(NOW))
    window_id = _window(sessions, "ended", {"prod": "ending"})
    with sessions.begin() as s:
        s.add(
            Baseline(
                environment="prod", nightly=True, realtime=True, captured_at=NOW,
                window_id=window_id, save_state_id="ss-1",
            )
        )  # fmt: skip

    def restore() -> None:
        service.decide_save_state(actor=APPROVER_2, environment="prod", decision="restore")

    with sessions.begin() as s:  # the first person chooses to leave it, locking as it does
        assert windows.get_window(s, window_id, lock=True) is not None
        baseline = windows.held_baseline(s, "prod", lock=True)
        assert baseline is not None
        baseline.save_state_decision, baseline.save_state_decided_by = "leave", APPROVER
        s.flush()
        second = behind_lock(s, restore)
    with pytest.raises(Conflict, match="already chose to leave"):
        second.result(timeout=10)
    with sessions.begin() as s:
        held = windows.held_baseline(s, "prod")
        assert held is not None and held.save_state_decision == "leave"
