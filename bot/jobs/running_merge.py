"""A merge found running at a window's start: look until it finishes, then say so.

The merge history shows a running merge as an ``inProgressMerge`` with its AWS job id; once
that job is no longer shown running it has finished. Which report it became is not known
(nothing ties a report to a job id), so the thread is given the newest report of its kind.
"""

from __future__ import annotations

import logging

from bot.domain.due_payloads import RunningMergeWatch
from bot.jobs.merge_watch import MergeWatcher
from bot.jobs.scheduler import Lease
from bot.services import timetable
from bot.services.running_merges import NO_JOB_ID, running_in
from bot.slack import merge_messages as messages
from coursedog.errors import CoursedogError
from coursedog.models import MergeRun

log = logging.getLogger(__name__)


def still_running(runs: list[MergeRun], watch: RunningMergeWatch) -> bool:
    """Whether the history still shows the watched merge running."""
    return any(
        watch.job_id in (NO_JOB_ID, run.job_id) and run.schedule_type == watch.schedule_type
        for run in running_in(runs)
    )


class RunningMergeWatcher(MergeWatcher):
    """The handler of ``watch_running_merge`` actions (built as the merge watcher is)."""

    def handle(self, lease: Lease) -> None:
        """Look once; report the end, give up, or look again later."""
        watch = lease.payload(RunningMergeWatch)
        client = self._clients[watch.environment]
        try:
            runs: list[MergeRun] | None = client.merge_history(watch.schedule_type, 10)
        except CoursedogError as exc:
            log.warning("merge history of %s unreadable: %s", watch.environment, exc)
            runs = None  # not known to have finished: look again
        now = self._clock.now()
        config = self._settings.merge_watch
        running = runs is None or still_running(runs, watch)
        give_up = running and now - watch.found_at >= config.give_up_after
        with lease.transaction() as session:
            if running and not give_up:
                later = RunningMergeWatch(
                    watch.window_id,
                    watch.environment,
                    watch.schedule_type,
                    watch.job_id,
                    watch.found_at,
                    watch.number + 1,
                )
                timetable.plan_running_merge_watch(session, later, now + config.running_every, now)
        if running and not give_up:
            return
        view = self._windows.get(watch.window_id)
        if give_up:
            text = messages.running_merge_not_over(view, watch)
        else:
            assert runs is not None
            newest = next((r for r in runs if not r.running), None)
            link = client.merge_report_url(newest.id) if newest is not None and newest.id else None
            text = messages.running_merge_over(view, watch, newest, link)
        self._notifier.in_thread(view, lease.action.dedup_key, text)
