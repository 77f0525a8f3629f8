"""What a reconciler pass wants of one environment, as the ledger says before Coursedog is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain.states import HOLDING
from coursedog.models import Schedule
from storage import ledger

# An environment row of an ended window that is still owed its restore.
ROW_WAITING_RESTORE = ("ending", "restore_failed")


@dataclass(frozen=True)
class Plan:
    """What the pass found in the ledger before it talked to Coursedog."""

    holding: tuple[int, ...]
    waiting: tuple[int, ...]
    baseline: Schedule | None
    save_state_id: str | None = None
    save_state_decision: str | None = None

    def saved_state_moved(self, live_save_state_id: str | None) -> bool:
        """Whether the enabled saved state is not the one the baseline was read from."""
        return bool(self.save_state_id and live_save_state_id) and (
            self.save_state_id != live_save_state_id
        )


def read_plan(session: Session, env: str, now: datetime) -> Plan:
    """What the ledger wants of ``env``; writes left pending by a writer that died are
    marked abandoned (the read that follows settles them)."""
    for stale in ledger.pending_writes(session, env):
        # Its writer died or lost the lease mid-call; the read below settles it.
        stale.status, stale.finished_at = "unknown", now
        stale.error = "abandoned by its writer; settled by the next read"
        # The call may have reached Coursedog: the audit trail must say so.
        ledger.add_audit(
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
    holding, waiting = ledger.holding_and_waiting(
        session, env, [s.value for s in HOLDING], ROW_WAITING_RESTORE
    )
    baseline = ledger.held_baseline(session, env)
    return Plan(
        holding=holding,
        waiting=waiting,
        baseline=Schedule(baseline.nightly, baseline.realtime) if baseline else None,
        save_state_id=baseline.save_state_id if baseline else None,
        save_state_decision=baseline.save_state_decision if baseline else None,
    )
