"""What a reconciler pass wants of one environment, as the ledger says before Coursedog is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.domain.states import HOLDING, RowStatus, WindowState
from coursedog.models import Schedule
from storage import audit, remote_writes, windows
from storage.models import Window

SCHEDULE_WRITE = "write_schedule"

# An environment row of an ended window that is still owed its restore.
ROW_WAITING_RESTORE = (RowStatus.ENDING, RowStatus.RESTORE_FAILED)
# The row of an approved window whose checklist was opened before its start: the window holds
# that environment from then on, so the switch-off is its own and its baseline right.
ROW_EARLY = RowStatus.EARLY
ROW_HELD_EARLY = (ROW_EARLY, RowStatus.OFF, RowStatus.FAILED)


def holds(window: Window, env: str) -> bool:
    """Whether ``window`` keeps ``env`` switched off: it is active (or failed), or it is
    approved and its checklist on ``env`` was opened early."""
    if window.state in HOLDING:
        return True
    row = next((r for r in window.environments if r.environment == env), None)
    return window.state == WindowState.APPROVED and row is not None and row.status in ROW_HELD_EARLY


# How long a write whose answer was lost may still reach Coursedog, unless configured.
LATE_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class LateWrite:
    """A write of the bot's that may still reach Coursedog, and the later write it would undo.

    ``restored`` is what that later write set and verified (a restore, usually); should the
    schedule turn to exactly ``desired`` while the environment is idle, the late one landed.
    """

    intent_id: int
    sent_at: datetime
    desired: Schedule
    restored: Schedule
    window_id: int | None


@dataclass(frozen=True)
class Plan:
    """What the pass found in the ledger before it talked to Coursedog."""

    holding: tuple[int, ...]
    waiting: tuple[int, ...]
    baseline: Schedule | None
    save_state_id: str | None = None
    save_state_decision: str | None = None
    # Writes that may still land and would undo a verified write after them (see LateWrite).
    late: tuple[LateWrite, ...] = ()
    # Merges were found switched off early and nobody has chosen yet what to restore.
    question_open: bool = False
    # A person switches the environment by hand for these windows (a write was refused).
    by_hand: bool = False

    def saved_state_moved(self, live_save_state_id: str | None) -> bool:
        """Whether the enabled saved state is not the one the baseline was read from."""
        return bool(self.save_state_id and live_save_state_id) and (
            self.save_state_id != live_save_state_id
        )


def read_plan(session: Session, env: str, now: datetime, *, late_for: timedelta = LATE_FOR) -> Plan:
    """What the ledger wants of ``env``; writes left pending by a writer that died are
    marked abandoned (the read that follows settles them; they may still land for
    ``late_for``)."""
    for stale in remote_writes.pending_writes(session, env):
        # Its writer died or lost the lease mid-call; the read below settles it.
        stale.status, stale.finished_at = "unknown", now
        stale.error = "abandoned by its writer; settled by the next read"
        if stale.operation == SCHEDULE_WRITE:
            stale.late_until = now + late_for
        # The call may have reached Coursedog: the audit trail must say so.
        audit.add(
            session,
            at=now,
            actor="system",
            action=f"{stale.operation}_abandoned",
            window_id=stale.window_id,
            environment=env,
            detail=stale.error,
            data={"intent": stale.id, "before": stale.before, "desired": stale.desired},
        )
    # Together, or an End committed between two reads would leave its window in both.
    holding, waiting = windows.holding_and_waiting(
        session,
        env,
        [s.value for s in HOLDING],
        ROW_WAITING_RESTORE,
        early=(WindowState.APPROVED.value, ROW_HELD_EARLY),
    )
    baseline = windows.held_baseline(session, env)
    return Plan(
        holding=holding,
        waiting=waiting,
        baseline=Schedule.of(baseline) if baseline else None,
        save_state_id=baseline.save_state_id if baseline else None,
        save_state_decision=baseline.save_state_decision if baseline else None,
        late=_late_writes(session, env, now),
        question_open=baseline is not None and baseline.question == "open",
        by_hand=windows.any_by_hand(session, env, holding + waiting),
    )


def _late_writes(session: Session, env: str, now: datetime) -> tuple[LateWrite, ...]:
    """The writes that may still land on ``env`` and that a verified write has superseded."""
    found = []
    for row in remote_writes.writes_that_may_land(session, env, now):
        after = remote_writes.newest_applied_write(session, env, after_id=row.id)
        if after is None or after.desired == row.desired:
            continue  # nothing verified after it, or it would set the same: harmless
        found.append(
            LateWrite(
                intent_id=row.id,
                sent_at=row.started_at,
                desired=Schedule.from_dict(row.desired),
                restored=Schedule.from_dict(after.desired),
                window_id=after.window_id,
            )
        )
    return tuple(found)
