"""Recording what restoring an environment brings back, from the read at a window's start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.services import evidence, outcomes
from coursedog.models import Schedule, ScheduleSnapshot
from storage import observations, windows


def record_from_read(
    session: Session, env: str, window_id: int, live: ScheduleSnapshot, now: datetime
) -> None:
    """The first window on ``env`` found ``live``: record it as the baseline, judged against
    what was seen of the environment before (see bot.services.evidence)."""
    window = windows.get_window(session, window_id)
    assert window is not None
    since = max(window.requested_at, window.decided_at or window.requested_at)
    runs = observations.newest(session, env, evidence.RUNS)
    outcomes.record_baseline(
        session,
        env,
        window_id,
        live.schedule,
        now=now,
        save_state_id=live.save_state_id,
        data={**live.schedule.to_dict(), "save_state_id": live.save_state_id},
        evidence=evidence.judge(live.schedule, runs, since),
    )


def observe(session: Session, env: str, schedule: Schedule, now: datetime) -> None:
    """A read showed ``env``'s schedule while no window held it: keep it."""
    observations.observe(session, env, nightly=schedule.nightly, realtime=schedule.realtime, at=now)
