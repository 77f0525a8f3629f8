"""After merges come back on: find the first nightly or manual merge and report it.

Edits made in Coursedog during a window reach the SIS only with the next merge. Until one
has run, the window's story is not over, so the bot looks at the merge history every
``merge_watch.every``; if none has run by ``merge_watch.give_up_after`` it reminds the
requester and suggests running a manual merge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.clock import Clock
from bot.config import Settings
from bot.domain.due_payloads import MergeWatch
from bot.jobs.scheduler import Lease
from bot.services import timetable
from bot.services.running_merges import started
from bot.services.schedule_api import ScheduleApi
from bot.services.windows import WindowService
from bot.slack import messages
from bot.slack.notifier import SlackNotifier
from coursedog.errors import CoursedogError
from coursedog.models import MergeRun

log = logging.getLogger(__name__)
# The kinds of merge looked for after a restore (not every kind a history lists:
# coursedog.wire.SCHEDULE_TYPES): the first of them to run carries the window's edits.
RESTORE_MERGE_TYPES = ("nightly", "manual")


def first_merge_since(runs: list[MergeRun], since: datetime) -> MergeRun | None:
    """The oldest merge that started after ``since`` (a running one with no date counts)."""
    after = [r for r in runs if (started(r) or since) >= since and (started(r) or r.running)]
    return min(after, key=lambda r: started(r) or datetime.max.replace(tzinfo=UTC), default=None)


class MergeWatcher:
    """The handler of ``watch_merge`` actions."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        notifier: SlackNotifier,
        windows: WindowService,
        clients: Mapping[str, ScheduleApi],
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._notifier = notifier
        self._windows = windows
        self._clients = clients

    def handle(self, lease: Lease) -> None:
        """Look once; report, remind, or look again later."""
        watch = lease.payload(MergeWatch)
        run = self._look(watch)
        now = self._clock.now()
        done = run is not None and not run.running
        give_up = not done and now - watch.restored_at >= self._settings.merge_watch.give_up_after
        with lease.transaction() as session:
            if not done and not give_up:
                later = MergeWatch(
                    watch.window_id, watch.environment, watch.restored_at, watch.number + 1
                )
                timetable.plan_merge_watch(
                    session, later, now + self._settings.merge_watch.every, now
                )
        view = self._windows.get(watch.window_id)
        if done and run is not None:
            link = self._clients[watch.environment].merge_report_url(run.id) if run.id else None
            text = messages.first_merge(view, watch.environment, run, link)
            self._notifier.in_thread(view, lease.action.dedup_key, text)
        elif give_up:
            text = messages.no_merge_yet(view, watch.environment, watch.restored_at)
            self._notifier.in_thread_and_direct(view, lease.action.dedup_key, text)

    def _look(self, watch: MergeWatch) -> MergeRun | None:
        client = self._clients[watch.environment]
        runs: list[MergeRun] = []
        for kind in RESTORE_MERGE_TYPES:
            try:
                runs += client.merge_history(kind, 5)
            except CoursedogError as exc:
                log.warning("merge history of %s unreadable: %s", watch.environment, exc)
        return first_merge_since(runs, watch.restored_at)
