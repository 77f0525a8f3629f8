"""A write that reaches Coursedog late never undoes a verified restore.

A schedule write whose answer was lost, and that a read then showed not applied, is sent once
more (see bot.services.writes); the first request may still be on its way. Should it land after
the window ended and its restore was verified, merges would be off again with no window. While
such a write may still land (``RemoteWrite.late_until``), the environment stays in play; a pass
that finds the schedule turned to exactly what the late write set, and not to what was
restored after it, restores again, verifies, and tells the restored window's thread why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from bot.services.plans import LateWrite, Plan
from bot.services.reports import Publisher, Report, ReportKind
from bot.services.schedule_api import ScheduleApi
from bot.services.writes import ScheduleWriter, Written
from coursedog.errors import CoursedogError
from coursedog.models import ScheduleSnapshot
from storage import remote_writes

log = logging.getLogger(__name__)

# Commits an outcome with the reports it owes (the reconciler's unit of work).
Record = Callable[[Callable[[Session], list[Report]]], list[Report]]
# Runs in a write's intent transaction: raises if this process no longer holds the lease.
Guard = Callable[[str, int], Callable[[Session], None]]


class LateWrites:
    """Looks for late writes on an idle environment and undoes the ones that landed."""

    def __init__(
        self,
        clients: Mapping[str, ScheduleApi],
        writer: ScheduleWriter,
        *,
        record: Record,
        guard: Guard,
    ) -> None:
        self._clients = clients
        self._writer = writer
        self._record = record
        self._guard = guard

    def check(self, env: str, epoch: int, plan: Plan, *, out: Publisher) -> list[Report]:
        """Read ``env``; if one of ``plan.late`` landed, restore what it undid."""
        client = self._clients.get(env)
        if client is None:
            return []
        try:
            live = client.read_schedule()
        except CoursedogError as exc:
            log.warning("could not look for late writes on %s: %s", env, exc)
            return []
        for late in plan.late:
            if live.schedule == late.desired and live.schedule != late.restored:
                return self._undo(env, epoch, late, live, client=client, out=out)
        return []

    def _undo(
        self,
        env: str,
        epoch: int,
        late: LateWrite,
        live: ScheduleSnapshot,
        *,
        client: ScheduleApi,
        out: Publisher,
    ) -> list[Report]:
        log.warning(
            "write %s to %s landed late (%s); restoring %s again",
            late.intent_id,
            env,
            live.schedule.describe(),
            late.restored.describe(),
        )
        written = self._writer.write(
            env,
            late.window_id,
            live.schedule,
            late.restored,
            client,
            over=live,
            prepare=self._guard(env, epoch),
        )

        def produce(session: Session) -> list[Report]:
            self._writer.settle(session, written)
            if written.error is None:
                remote_writes.forget_late_write(session, late.intent_id)
            return [_report(env, late, live, written)]

        reports = self._record(produce)
        out.now(reports)
        return reports


def _report(env: str, late: LateWrite, live: ScheduleSnapshot, written: Written) -> Report:
    sent = f"{late.sent_at:%Y-%m-%d %H:%M} UTC"
    if written.error is None:
        return Report(
            late.window_id,
            env,
            ReportKind.LATE_WRITE_UNDONE,
            before=live.schedule,
            after=late.restored,
            detail=sent,
            occurrence=written.intent_id,
        )
    return Report(
        late.window_id,
        env,
        ReportKind.LATE_WRITE_NOT_UNDONE,
        before=live.schedule,
        after=late.restored,
        detail=f"sent {sent}; restoring again failed: {written.error}",
        occurrence=late.intent_id,
    )
