"""The reconciler's side of the assisted driver: open a checklist, and close it.

With read access the reconciler still decides by reading: a checklist is opened when the live
schedule differs from the desired one, and closed when a read shows it matches. Without read
access the checklist is the only evidence: once every switch and the save are confirmed, the
window is recorded as off (or restored) on the people's word, and the thread says so.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.services import assisted, outbox, outcomes
from bot.services.comments import ActivityComments
from bot.services.plans import Plan
from bot.services.reports import Report, ReportKind
from coursedog.models import ALL_OFF, Schedule
from storage import audit

_CONFIRMED = {
    ReportKind.SWITCHED_OFF: ReportKind.CONFIRMED_OFF,
    ReportKind.VERIFIED_OFF: ReportKind.CONFIRMED_OFF,
    ReportKind.ALREADY_OFF: ReportKind.CONFIRMED_OFF,
    ReportKind.RESTORED: ReportKind.CONFIRMED_RESTORED,
}


def _phase(plan: Plan) -> tuple[str, int]:
    """Which checklist the plan needs, and the window it belongs to (the first one)."""
    if plan.holding:
        return "off", plan.holding[0]
    return "restore", plan.waiting[0]


def _targets(live: Schedule, desired: Schedule) -> dict[str, bool]:
    """The switches that must change, and to what."""
    now = live.to_dict()
    return {name: want for name, want in desired.to_dict().items() if now[name] != want}


class ByHand:
    """Checklists for environments a person switches."""

    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, comments: ActivityComments
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._comments = comments

    def needs_person(self, env: str, plan: Plan, live: Schedule, desired: Schedule) -> list[Report]:
        """A read shows the schedule is not yet as desired: open the checklist (once)."""
        phase, window_id = _phase(plan)
        with self._sessions.begin() as session:
            now = self._clock.now()
            created = assisted.ensure(
                session,
                window_id=window_id,
                env=env,
                phase=phase,
                targets=_targets(live, desired),
                now=now,
            )
            view = assisted.load(session, window_id, env, phase, reads=True)
            if created or view is None or not view.switched:
                return self._owed(
                    session,
                    outcomes.assisted(session, env, plan, live=live, desired=desired, phase=phase),
                )
            # The checklist was done, and merges changed again by hand: a fresh round.
            assisted.reopen(session, window_id, env, phase, _targets(live, desired))
            event = audit.add(
                session,
                at=now,
                actor="system",
                action="checklist_reopened",
                window_id=window_id,
                environment=env,
                detail=f"{live.describe()}, should be {desired.describe()}",
            )
            reports = outcomes.assisted(
                session, env, plan, live=live, desired=desired, phase=phase, force=True
            )
            audit.append_now(session)  # last: the event's id marks this round's message
            return self._owed(session, [replace(r, occurrence=event.id) for r in reports])

    def verified(self, env: str, plan: Plan) -> None:
        """A read showed the desired schedule: the checklist's switches and save are done."""
        if not (plan.holding or plan.waiting):
            return
        phase, window_id = _phase(plan)
        with self._sessions.begin() as session:
            assisted.mark_read(session, window_id, env, phase, self._clock.now())

    def without_reads(self, env: str, plan: Plan) -> list[Report]:
        """No read access: the checklist, once confirmed, stands in for the read."""
        phase, window_id = _phase(plan)
        if phase == "restore" and plan.baseline is None:
            return []  # handled by the caller's nothing-to-restore path
        desired = ALL_OFF if phase == "off" else plan.baseline
        assert desired is not None
        with self._sessions.begin() as session:
            view = assisted.load(session, window_id, env, phase, reads=False)
            if view is None:
                # Without a read, the person says what was on while switching it off.
                start = Schedule(nightly=True, realtime=True) if phase == "off" else ALL_OFF
                opened = self._open(
                    session,
                    env,
                    plan,
                    phase=phase,
                    window_id=window_id,
                    start=start,
                    desired=desired,
                )
                return self._owed(session, opened)
            if not view.switched:
                return []
            now = self._clock.now()
            if phase == "off":
                before = view.found_on
                if plan.baseline is None:
                    outcomes.record_baseline(
                        session,
                        env,
                        window_id,
                        before,
                        now=now,
                        detail=f"{before.describe()} (as confirmed by a person)",
                    )
                reports = outcomes.finish_off(
                    session, env, plan, before=before, after=ALL_OFF, write_id=0
                )
            else:
                reports = outcomes.finish_restore(
                    session, env, plan, before=ALL_OFF, after=desired, now=now
                )
            confirmed = [replace(r, kind=_CONFIRMED.get(r.kind, r.kind)) for r in reports]
            self._owed(session, confirmed)
        return confirmed

    def _owed(self, session: Session, reports: list[Report]) -> list[Report]:
        """Keep the reports, and the comments they warrant, with the outcome until they are
        posted (see Reconciler._record)."""
        outbox.owe(session, reports, self._clock.now())
        self._comments.owe(session, reports)
        return reports

    def _open(
        self,
        session: Session,
        env: str,
        plan: Plan,
        *,
        phase: str,
        window_id: int,
        start: Schedule,
        desired: Schedule,
    ) -> list[Report]:
        targets = _targets(start, desired)
        if not targets:  # nothing was on: nothing to switch back
            return outcomes.finish_restore(
                session, env, plan, before=start, after=desired, now=self._clock.now()
            )
        assisted.ensure(
            session,
            window_id=window_id,
            env=env,
            phase=phase,
            targets=targets,
            now=self._clock.now(),
        )
        return outcomes.assisted(session, env, plan, live=start, desired=desired, phase=phase)
