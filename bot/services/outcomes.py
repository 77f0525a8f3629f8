"""Recording what a reconcile pass found, per window, and deciding what is worth telling.

Every function re-reads the windows under lock: the ledger may have moved on while the pass
was talking to Coursedog (a window ended, say), and only rows still in the state the pass
planned for are changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.domain.due_payloads import MergeWatch
from bot.domain.states import RowStatus, WindowState, can_transition, move_row, move_window
from bot.services import timetable
from bot.services.evidence import Evidence
from bot.services.plans import ROW_WAITING_RESTORE, Plan, holds
from bot.services.reports import Report, ReportKind
from coursedog.models import Schedule
from storage import audit, windows
from storage.models import Baseline, Window, WindowEnvironment


class Failure(StrEnum):
    """Why a pass could not bring an environment to its desired schedule."""

    FAILED = "failed"  # Coursedog could not be reached, or answered an error
    LOCKED = "locked"  # Coursedog said the settings are locked: only it can change them
    REFUSED = "refused"  # a write was refused, reason unknown (read-only user, or locked)
    UNRECOGNISED = "unrecognised"  # a schedule read the bot cannot make sense of


def _rows(
    session: Session, env: str, window_ids: Sequence[int], *, holding: bool
) -> list[tuple[WindowEnvironment, Window]]:
    """Rows of windows that still hold (``holding``) or still wait for their restore."""
    pairs = []
    for window_id in window_ids:
        window = windows.get_window(session, window_id, lock=True)
        if window is None or holds(window, env) != holding:
            continue
        row = next((r for r in window.environments if r.environment == env), None)
        if row is None or (not holding and row.status not in ROW_WAITING_RESTORE):
            continue
        pairs.append((row, window))
    return pairs


def record_baseline(
    session: Session,
    env: str,
    window_id: int,
    schedule: Schedule,
    *,
    now: datetime,
    save_state_id: str | None = None,
    detail: str | None = None,
    data: dict[str, object] | None = None,
    evidence: Evidence | None = None,
) -> None:
    """What the first window found on ``env``: what restoring will bring back.

    With ``evidence`` that merges were switched off early by hand, what was last seen is
    restored instead of ``schedule``; when that evidence is too weak, a person is asked.
    """
    restore = evidence.restore if evidence is not None else schedule
    session.add(
        Baseline(
            environment=env,
            nightly=restore.nightly,
            realtime=restore.realtime,
            save_state_id=save_state_id,
            captured_at=now,
            window_id=window_id,
            evidence=evidence.to_data() if evidence is not None else None,
            question="open" if evidence is not None and evidence.ask else None,
        )
    )
    if evidence is not None:
        seen = evidence.observed.describe()
        then = "a person chooses what to restore" if evidence.ask else f"restores {seen}"
        detail = f"found {schedule.describe()}, last seen {seen}; {then}"
        data = {**(data or {}), "evidence": evidence.to_data()}
    audit.add(
        session,
        at=now,
        actor="system",
        action="baseline_recorded",
        window_id=window_id,
        environment=env,
        detail=detail or schedule.describe(),
        data=data,
    )


def finish_off(
    session: Session, env: str, plan: Plan, *, before: Schedule, after: Schedule, write_id: int
) -> list[Report]:
    """Merges are verified off: mark the holding windows, hand over the ended ones."""
    reports: list[Report] = []
    held = windows.held_baseline(session, env)
    restores = Schedule.of(held) if held is not None else plan.baseline
    for row, window in _rows(session, env, plan.holding, holding=True):
        if row.status == RowStatus.OFF:
            if write_id:  # someone switched merges back on by hand meanwhile
                reports.append(
                    Report(
                        window.id,
                        env,
                        ReportKind.DRIFT_CORRECTED,
                        before,
                        after,
                        occurrence=write_id,
                    )
                )
            continue
        if write_id:
            kind = ReportKind.SWITCHED_OFF
        elif restores is not None and not restores.is_off():
            kind = ReportKind.VERIFIED_OFF  # switched off earlier (by hand, another window…)
        else:
            kind = ReportKind.ALREADY_OFF
        move_row(row, RowStatus.OFF)
        row.detail = None
        state = _recover_if_done(window)
        reports.append(Report(window.id, env, kind, before, after, window_state=state))
        if held is not None and held.evidence is not None and held.window_id == window.id:
            reports.append(_early_off(window.id, env, held))
    others = ", ".join(f"MW-{w}" for w in plan.holding)
    for row, window in _rows(session, env, plan.waiting, holding=False):
        move_row(row, RowStatus.HANDED_OVER)
        row.detail = None
        reports.append(Report(window.id, env, ReportKind.HANDED_OVER, after=after, detail=others))
    return reports


def _early_off(window_id: int, env: str, held: Baseline) -> Report:
    """Merges were found switched off early by hand: what the bot will restore, or a question."""
    assert held.evidence is not None
    evidence = Evidence.from_data(held.evidence)
    if held.question == "open":
        return Report(
            window_id,
            env,
            ReportKind.BASELINE_QUESTION,
            before=evidence.found,
            after=evidence.observed,
            detail=evidence.why_unsure(),
        )
    return Report(
        window_id,
        env,
        ReportKind.SWITCHED_OFF_EARLY,
        before=evidence.found,
        after=evidence.observed,
        detail=f"{evidence.observed_at:%Y-%m-%d %H:%M} UTC",
    )


def finish_restore(
    session: Session,
    env: str,
    plan: Plan,
    *,
    before: Schedule | None,
    after: Schedule | None,
    now: datetime,
    watch_every: timedelta | None = None,
    left_as_is: bool = False,
) -> list[Report]:
    """No window holds the environment any more and its baseline is back (or there was none)."""
    reports: list[Report] = []
    baseline = windows.held_baseline(session, env)
    for row, window in _rows(session, env, plan.waiting, holding=False):
        move_row(row, RowStatus.RESTORED)
        row.detail = None
        kind = ReportKind.RESTORED if after is not None else ReportKind.NOTHING_TO_RESTORE
        if left_as_is:
            kind = ReportKind.LEFT_AS_IS
        reports.append(Report(window.id, env, kind, before, after))
        if kind is ReportKind.RESTORED and watch_every is not None and not after_is_off(after):
            # Edits made during the window reach the SIS with the next merge: watch for it.
            watch = MergeWatch(window.id, env, now, 1)
            timetable.plan_merge_watch(session, watch, now + watch_every, now)
    if baseline is not None:
        baseline.released_at = now
        audit.add(
            session,
            at=now,
            actor="system",
            action="baseline_restored",
            window_id=baseline.window_id,
            environment=env,
            detail=after.describe() if after else "",
        )
    return reports


def failed(
    session: Session,
    env: str,
    plan: Plan,
    reason: str,
    *,
    reading: bool,
    now: datetime,
    failure: Failure = Failure.FAILED,
    unrecognised: str | None = None,
) -> list[Report]:
    """Coursedog refused or could not be reached: say so once per episode, keep retrying.

    ``unrecognised`` is the schedule as read when the bot could not make sense of it: merges
    that were off may be running, so even an environment verified off is reported.
    """
    event = audit.add(
        session,
        at=now,
        actor="system",
        action="reconcile_failed",
        window_id=(plan.holding or plan.waiting or (None,))[0],
        environment=env,
        detail=reason,
    )
    off_kind, restore_kind = _FAILURE_KINDS[failure]
    quiet = reading and failure is not Failure.UNRECOGNISED
    reports: list[Report] = []
    for row, window in _rows(session, env, plan.holding, holding=True):
        if row.status == RowStatus.FAILED or (quiet and row.status == RowStatus.OFF):
            # Already told; or verified off before and merely unreadable now: retry quietly.
            continue
        move_row(row, RowStatus.FAILED)
        row.detail = reason
        state = None
        if can_transition(window.state, WindowState.FAILED):
            move_window(window, WindowState.FAILED)
            window.failure_reason = f"{env}: {reason}"
            state = WindowState.FAILED.value
        reports.append(
            Report(
                window.id,
                env,
                off_kind,
                detail=reason,
                window_state=state,
                text=unrecognised or "",
            )
        )
    for row, window in _rows(session, env, plan.waiting, holding=False):
        if row.status == RowStatus.RESTORE_FAILED:
            continue
        move_row(row, RowStatus.RESTORE_FAILED)
        row.detail = reason
        reports.append(
            Report(
                window.id,
                env,
                restore_kind,
                after=plan.baseline,
                detail=reason,
                text=unrecognised or "",
            )
        )
    audit.append_now(session)  # last: the event's id tells this episode's reports apart
    return [replace(report, occurrence=event.id) for report in reports]


# The reports a failure warrants: on switching off, and on restoring.
_FAILURE_KINDS = {
    Failure.FAILED: (ReportKind.OFF_FAILED, ReportKind.RESTORE_FAILED),
    Failure.LOCKED: (ReportKind.OFF_LOCKED, ReportKind.RESTORE_LOCKED),
    Failure.UNRECOGNISED: (ReportKind.OFF_UNRECOGNISED, ReportKind.RESTORE_UNRECOGNISED),
}


def switched_to_checklist(
    session: Session, env: str, plan: Plan, reason: str, now: datetime
) -> list[Report]:
    """Coursedog refused a write without saying why: for the windows the pass was for, a
    person switches ``env`` by hand with the checklist (the bot still verifies by reading),
    and nobody is told the school is locked when it may only be a read-only API user."""
    reports: list[Report] = []
    rows = _rows(session, env, plan.holding, holding=True) + _rows(
        session, env, plan.waiting, holding=False
    )
    for row, window in rows:
        if row.by_hand:
            continue
        row.by_hand = True
        audit.add(
            session,
            at=now,
            actor="system",
            action="switched_to_checklist",
            window_id=window.id,
            environment=env,
            detail=reason,
        )
        reports.append(Report(window.id, env, ReportKind.WRITE_REFUSED, detail=reason))
    return reports


def assisted(
    session: Session,
    env: str,
    plan: Plan,
    *,
    live: Schedule,
    desired: Schedule,
    phase: str,
    force: bool = False,
) -> list[Report]:
    """A person switches this environment: tell them once what to set."""
    reports: list[Report] = []
    rows = _rows(session, env, plan.holding, holding=True) + _rows(
        session, env, plan.waiting, holding=False
    )
    for row, window in rows:
        if row.detail == "assisted" and not force:
            continue
        row.detail = "assisted"
        reports.append(
            Report(window.id, env, ReportKind.ASSISTED, before=live, after=desired, detail=phase)
        )
    return reports


def _recover_if_done(window: Window) -> str | None:
    if window.state == WindowState.FAILED and all(
        r.status == RowStatus.OFF for r in window.environments
    ):
        move_window(window, WindowState.ACTIVE)
        window.failure_reason = None
        return WindowState.ACTIVE.value
    return None


def after_is_off(after: Schedule | None) -> bool:
    """Nothing restored means no merge is coming to watch for."""
    return after is None or after.is_off()


def baseline_unanswered(session: Session, env: str, plan: Plan) -> list[Report]:
    """A window ended while nobody had chosen what to restore after merges were found
    switched off early: ask again, once, and restore nothing meanwhile."""
    held = windows.held_baseline(session, env)
    if held is None or held.evidence is None:
        return []
    evidence = Evidence.from_data(held.evidence)
    waiting = "waiting for a choice: switch back on what was seen, or leave as found"
    reports: list[Report] = []
    for row, window in _rows(session, env, plan.waiting, holding=False):
        if row.detail == waiting:
            continue
        move_row(row, RowStatus.RESTORE_FAILED)
        row.detail = waiting
        reports.append(
            Report(
                window.id,
                env,
                ReportKind.BASELINE_UNANSWERED,
                before=evidence.found,
                after=evidence.observed,
            )
        )
    return reports


def save_state_changed(
    session: Session, env: str, plan: Plan, *, current: str | None
) -> list[Report]:
    """The enabled saved state changed during the window: ask a person instead of guessing."""
    detail = f"{plan.save_state_id} -> {current}"
    reports: list[Report] = []
    for row, window in _rows(session, env, plan.waiting, holding=False):
        if row.detail == f"saved state changed: {detail}":
            continue
        move_row(row, RowStatus.RESTORE_FAILED)
        row.detail = f"saved state changed: {detail}"
        reports.append(
            Report(
                window.id, env, ReportKind.SAVE_STATE_CHANGED, after=plan.baseline, detail=detail
            )
        )
    return reports
