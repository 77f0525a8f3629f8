"""Handlers for due actions: lease transaction -> timed service -> notices. Thin, like listeners."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.domain.due_payloads import Nag
from bot.domain.durations import format_duration
from bot.jobs.scheduler import Handler, Lease
from bot.services import timed, timetable
from bot.services.drivers import Drivers
from bot.services.running_merges import RunningMerges
from bot.services.timed import Outcome, Timed
from bot.services.views import WindowView
from bot.services.windows import WindowService
from bot.slack import messages
from bot.slack.context import Kicker
from bot.slack.notifier import SlackNotifier
from bot.slack.start import start_and_tell
from bot.slack.text import escape
from storage.due import ClaimedAction

# A notice this much after its due time says it is late (the bot was down or busy).
LATE_AFTER = timedelta(minutes=2)


class Jobs:
    """One handler per kind of due action."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        notifier: SlackNotifier,
        worker: Kicker,
        windows: WindowService,
        *,
        drivers: Drivers,
        running_merges: RunningMerges,
    ) -> None:
        self._settings = settings
        self._running_merges = running_merges
        self._drivers = drivers
        self._windows = windows
        self._clock = clock
        self._notifier = notifier
        self._worker = worker

    def handlers(self) -> dict[str, Handler]:
        """Kind -> handler, for the scheduler."""
        return {
            timetable.EXPIRE: self.expire,
            timetable.REMIND_START: self.remind_start,
            timetable.START: self.start,
            timetable.REMIND_END: self.remind_end,
            timetable.END: self.end,
            timetable.NAG: self.nag,
        }

    def gave_up(self, action: ClaimedAction, error: str) -> None:
        """An action failed every attempt: a person must look, or a window may be stuck."""
        what = f"`{action.kind}` of MW-{action.window_id}" if action.window_id else action.kind
        self._notifier.post_channel(
            f"gave-up:{action.id}",
            f":sos: The scheduled step {what} failed {action.attempts} times and will not be "
            f"retried ({escape(error)}). Check the window with `/sis-maint` and act by hand.",
        )

    def _late(self, lease: Lease) -> bool:
        return self._clock.now() - lease.action.due_at > LATE_AFTER

    def expire(self, lease: Lease) -> None:
        """Nobody decided: tell the requester, update the card."""
        with lease.transaction() as session:
            result = timed.on_expire(session, lease.action.window_id, self._clock.now())
        view = result.view
        if view is None:
            return
        self._notifier.refresh_card(view)
        self._notifier.direct(
            view.requester_id, lease.action.dedup_key, messages.expired(view), about=view
        )

    def remind_start(self, lease: Lease) -> None:
        """Before the start: the thread and the requester."""
        with lease.transaction() as session:
            result = timed.on_remind_start(session, lease.action.window_id, self._clock.now())
        view = result.view
        if view is None or view.starts_at is None:
            return
        lead = format_duration(max(view.starts_at - self._clock.now(), timedelta(minutes=1)))
        text = messages.remind_start(view, lead, self._late(lease))
        by_hand = [env for env in view.environment_names if self._drivers.by_hand(env)]
        blocks = messages.early_checklists(view, by_hand, text)
        self._notifier.in_thread_and_direct(view, lease.action.dedup_key, text, blocks=blocks)
        # What people have now is what the start will be judged against (bot.services.evidence).
        self._worker.look(view.environment_names)

    def start(self, lease: Lease) -> None:
        """The start time: activate, tell the thread, let the reconciler switch off."""
        with lease.transaction() as session:
            result = timed.on_start(
                self._settings, session, lease.action.window_id, self._clock.now()
            )
        view = result.view
        if view is None:
            return
        self._notifier.refresh_card(view)
        if result.outcome is Outcome.MISSED:
            self._notifier.in_thread(view, lease.action.dedup_key, messages.missed(view))
            return
        # The switch-off waits until the thread says which merge runs (bot.slack.start).
        start_and_tell(
            self._notifier,
            self._worker,
            self._running_merges,
            view,
            key=lease.action.dedup_key,
            text=messages.started(view, self._late(lease)),
        )

    def remind_end(self, lease: Lease) -> None:
        """Shortly before the end, with Extend / Re-enable buttons."""
        with lease.transaction() as session:
            result = timed.on_remind_end(session, lease.action.window_id, self._clock.now())
        view = result.view
        if view is None:
            return
        text = messages.remind_end(view, self._late(lease))
        self._notifier.in_thread(
            view, lease.action.dedup_key, text, blocks=messages.with_choices(view, text)
        )

    def end(self, lease: Lease) -> None:
        """The end time: restore by policy, or start asking someone to."""
        with lease.transaction() as session:
            result = timed.on_end(
                self._settings, session, lease.action.window_id, self._clock.now()
            )
        self._after_end(lease, result)

    def nag(self, lease: Lease) -> None:
        """Another "time to re-enable" notice; escalates after the configured number."""
        number = lease.payload(Nag).number
        with lease.transaction() as session:
            now = self._clock.now()
            result = timed.on_nag(self._settings, session, lease.action.window_id, number, now)
        self._after_end(lease, result)

    def _after_end(self, lease: Lease, result: Timed) -> None:
        view = result.view
        if view is None:
            return
        late = self._late(lease)
        self._notifier.refresh_card(view)
        if result.outcome is Outcome.ENDED:
            self._notifier.in_thread(view, lease.action.dedup_key, messages.auto_ended(view, late))
            self._worker.kick(view.environment_names)
            return
        approvers = self._windows.approvers(view.id) if result.escalate else []
        text = messages.overdue(view, result.number, approvers, late)
        self._notifier.in_thread(
            view, lease.action.dedup_key, text, blocks=messages.with_choices(view, text)
        )
        stamp = int(view.ends_at.timestamp()) if view.ends_at else 0
        self._direct_all(approvers, f"escalate:{view.id}:{stamp}", view)

    def _direct_all(self, users: Iterable[str], key: str, view: WindowView) -> None:
        text = messages.escalation(view)
        for user_id in users:
            self._notifier.direct(user_id, f"{key}:{user_id}", text, about=view)
