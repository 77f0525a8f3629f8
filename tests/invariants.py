"""The invariants of the design, checked against the ledger and the Coursedog simulator.

I1 no approved window is lost; I2 an active window's switches are off; I3 every remote write
has an intent row; I4 each due action and each decision takes effect once; I5 after the last
window the switches equal the baseline; I6 the audit trail explains every remote change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from coursedog.simulator import Simulator
from storage.models import AuditEvent, Baseline, RemoteWrite, Window, WindowEnvironment

HOLDING = ("active", "failed")
WAITING = ("ending", "restore_failed")
ONCE_PER_WINDOW = ("approved", "denied", "started", "ended", "expired", "missed", "cancelled")
EXPLAINS_A_WRITE = (
    "schedule_written",
    "schedule_write_failed",
    "write_schedule_abandoned",
)


class Broken(AssertionError):
    """An invariant does not hold."""


def check(
    session: Session, sim: Simulator, schools: Mapping[str, str], *, now: datetime | None = None
) -> None:
    """Check every invariant; ``schools`` maps environment -> school; ``now`` enables I1."""
    windows = list(session.scalars(select(Window)))
    if now is not None:
        _no_window_lost(windows, now)
    _decided_once(session)
    for env, school in schools.items():
        state = sim.school(school)
        rows = list(
            session.execute(
                select(WindowEnvironment.status, Window.state)
                .join(Window)
                .where(WindowEnvironment.environment == env)
            )
        )
        _off_while_held(env, rows, (state.nightly, state.realtime))
        _writes_explained(session, env, state.writes)
        _baseline_after_last(session, env, rows, (state.nightly, state.realtime))


def _no_window_lost(windows: list[Window], now: datetime) -> None:
    for window in windows:
        due = window.starts_at is not None and window.starts_at <= now
        if due and window.state in ("approved", "requested"):
            raise Broken(f"I1: MW-{window.id} is past its start and still {window.state}")


def _decided_once(session: Session) -> None:
    counts = Counter(
        (window_id, action)
        for window_id, action in session.execute(
            select(AuditEvent.window_id, AuditEvent.action).where(
                AuditEvent.action.in_(ONCE_PER_WINDOW)
            )
        )
    )
    twice = {key: n for key, n in counts.items() if n > 1}
    if twice:
        raise Broken(f"I4: events recorded more than once per window: {twice}")
    decisions = Counter(w for (w, action) in counts if action in ("approved", "denied"))
    if any(n > 1 for n in decisions.values()):
        raise Broken(f"I4: a window got more than one decision: {decisions}")


def _off_while_held(env: str, rows: list[tuple[str, str]], live: tuple[bool, bool]) -> None:
    verified_off = any(state in HOLDING and status == "off" for status, state in rows)
    if verified_off and live != (False, False):
        raise Broken(f"I2: {env} is held and was verified off, but reads {live}")


def _writes_explained(session: Session, env: str, applied: int) -> None:
    intents = session.scalars(
        select(RemoteWrite).where(
            RemoteWrite.environment == env, RemoteWrite.operation == "write_schedule"
        )
    ).all()
    if applied > len(intents):
        raise Broken(f"I3: {env} took {applied} writes but the ledger has {len(intents)} intents")
    pending = [w.id for w in intents if w.status == "pending"]
    if len(pending) > 1:
        raise Broken(f"I3: {env} has more than one write in flight: {pending}")
    events = session.scalars(
        select(AuditEvent.id).where(
            AuditEvent.environment == env, AuditEvent.action.in_(EXPLAINS_A_WRITE)
        )
    ).all()
    if applied > len(events) + len(pending):
        raise Broken(f"I6: {env} took {applied} writes; the audit trail explains {len(events)}")


def _baseline_after_last(
    session: Session, env: str, rows: list[tuple[str, str]], live: tuple[bool, bool]
) -> None:
    if any(state in HOLDING or status in WAITING for status, state in rows):
        return
    baseline = session.scalars(
        select(Baseline)
        .where(Baseline.environment == env, Baseline.released_at.is_not(None))
        .order_by(Baseline.id.desc())
    ).first()
    if baseline is None or baseline.save_state_decision == "leave":
        return
    if live != (baseline.nightly, baseline.realtime):
        raise Broken(
            f"I5: no window holds {env} any more, but it reads {live}, "
            f"not its baseline {(baseline.nightly, baseline.realtime)}"
        )
