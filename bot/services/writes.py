"""One write of the schedule to Coursedog: the intent row first, then the call, then a read.

The value written is absolute, so when a failure leaves it unclear whether Coursedog applied it
(a lost answer, a 5xx) the read-back decides, and a write found not applied is sent once more.
The intent is settled, with the audit event that explains the change, in the transaction
that records the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot import crashpoint
from bot.clock import Clock
from bot.services.outcomes import Failure
from coursedog.errors import (
    CoursedogError,
    OutcomeUnknown,
    ScheduleNotLearned,
    ServerError,
    SettingsLocked,
    WriteRefused,
)
from coursedog.models import Schedule, ScheduleSnapshot
from storage import audit
from storage.models import RemoteWrite

log = logging.getLogger(__name__)
# A write whose failure was ambiguous and that reads back as not applied is sent once more.
MAX_SENDS = 2


class WriteApi(Protocol):
    """The part of the Coursedog client a write needs."""

    def read_switches(self) -> Schedule: ...

    def write_schedule(
        self, schedule: Schedule, *, over: ScheduleSnapshot | None = None
    ) -> None: ...


@dataclass(frozen=True)
class Written:
    """A write sent and read back; its intent is settled with the outcome it leads to.

    ``may_land_late``: a send's answer was lost and a read after it showed it not applied (or
    nothing could be read), so that request may still reach Coursedog later (see settle).
    """

    intent_id: int
    env: str
    window_id: int | None
    status: str
    error: str | None
    desired: Schedule
    data: dict[str, object]
    summary: str
    may_land_late: bool = False
    failure: Failure = Failure.FAILED


@dataclass(frozen=True)
class _Sent:
    """How sending a write and reading it back went."""

    error: str | None
    status: str
    verified: Schedule | None
    sends: int
    may_land_late: bool
    failure: Failure = Failure.FAILED


class ScheduleWriter:
    """Writes one environment's schedule with its intent row and audit event."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        late_for: timedelta = timedelta(minutes=15),
    ) -> None:
        """``late_for``: how long a send whose answer was lost may still reach Coursedog."""
        self._sessions = sessions
        self._clock = clock
        self._late_for = late_for

    def write(
        self,
        env: str,
        window_id: int | None,
        before: Schedule,
        desired: Schedule,
        client: WriteApi,
        *,
        over: ScheduleSnapshot | None = None,
        prepare: Callable[[Session], None] | None = None,
    ) -> Written:
        """Record the intent, write ``desired`` and read it back.

        ``over`` is the snapshot just read, whose other fields the write keeps. ``prepare``
        runs in the intent's transaction (what must be committed before the call, e.g. the
        baseline and the lease check); if it raises, nothing is recorded and nothing is sent.
        The caller settles the result (``settle``) in the transaction of its outcome.
        """
        with self._sessions.begin() as session:
            if prepare is not None:
                prepare(session)
            intent = RemoteWrite(
                environment=env,
                operation="write_schedule",
                window_id=window_id,
                before=before.to_dict(),
                desired=desired.to_dict(),
                status="pending",
                started_at=self._clock.now(),
            )
            session.add(intent)
        crashpoint.reached("intent")
        sent = self._send_and_verify(env, client, desired, over)
        return Written(
            intent_id=intent.id,
            env=env,
            window_id=window_id,
            status=sent.status,
            error=sent.error,
            desired=desired,
            data={
                "before": before.to_dict(),
                "desired": desired.to_dict(),
                "verified": sent.verified.to_dict() if sent.verified else None,
                "sends": sent.sends,
            },
            summary=f"{before.describe()} -> {desired.describe()}",
            may_land_late=sent.may_land_late,
            failure=sent.failure,
        )

    def _send_and_verify(
        self, env: str, client: WriteApi, desired: Schedule, over: ScheduleSnapshot | None
    ) -> _Sent:
        """Write and read back; resend once if an ambiguous failure turns out not applied."""
        sends = 0
        lost_unapplied = False  # a lost send that a read showed not (yet) applied
        while True:
            sends += 1
            ambiguous: CoursedogError | None = None
            try:
                client.write_schedule(desired, over=over)
            except WriteRefused as exc:
                why = Failure.LOCKED if isinstance(exc, SettingsLocked) else Failure.REFUSED
                return _Sent(str(exc), "failed", None, sends, lost_unapplied, why)
            except ScheduleNotLearned as exc:  # refused here, before anything was sent
                return _Sent(str(exc), "failed", None, sends - 1, lost_unapplied)
            except (OutcomeUnknown, ServerError) as exc:
                # It may or may not have been applied: the read below tells, not a guess.
                log.warning("write to %s: outcome unknown (%s); settling by reading", env, exc)
                ambiguous = exc
            except CoursedogError as exc:
                error = f"Coursedog refused the change: {exc}"
                return _Sent(error, "failed", None, sends, lost_unapplied)
            crashpoint.reached("called")
            try:
                verified = client.read_switches()
            except CoursedogError as exc:
                reason = f"the change could not be verified, because reading it back failed: {exc}"
                return _Sent(reason, "unknown", None, sends, True)
            if verified == desired:
                return _Sent(None, "applied", verified, sends, lost_unapplied)
            lost_unapplied = lost_unapplied or ambiguous is not None
            if ambiguous is None or sends >= MAX_SENDS:
                break
            # Read back as not applied: the absolute value is safe to send once more.
            log.warning("write to %s was not applied; sending it once more", env)
        if isinstance(ambiguous, ServerError):
            error = f"Coursedog refused the change: {ambiguous}"
            return _Sent(error, "failed", verified, sends, lost_unapplied)
        reason = f"the read-back shows {verified.describe()}, not {desired.describe()}"
        return _Sent(reason, "failed", verified, sends, lost_unapplied)

    def settle(self, session: Session, written: Written) -> None:
        """Settle the intent row and append the audit event that explains the remote change.

        A write that may still land late is watched for that long (see plans.LateWrite).
        """
        now = self._clock.now()
        late_until = now + self._late_for if written.may_land_late else None
        session.execute(
            update(RemoteWrite)
            .where(RemoteWrite.id == written.intent_id)
            .values(
                status=written.status, finished_at=now, error=written.error, late_until=late_until
            )
        )
        audit.add(
            session,
            at=now,
            actor="system",
            action="schedule_written" if written.error is None else "schedule_write_failed",
            window_id=written.window_id,
            environment=written.env,
            detail=written.error or written.summary,
            data={**written.data, "may_land_late": True} if late_until else written.data,
        )
