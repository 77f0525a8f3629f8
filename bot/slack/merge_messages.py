"""What the thread says of a merge Coursedog is running when a window starts, and of its end."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.due_payloads import RunningMergeWatch
from bot.services.running_merges import NO_JOB_ID, Look, started
from bot.services.views import WindowView
from bot.slack.text import escape, slack_time
from coursedog.models import MergeRun

_KIND = {"realtime": "real-time"}


def _kind(schedule_type: str) -> str:
    return _KIND.get(schedule_type, schedule_type)


def _job(run: MergeRun) -> str:
    name = run.job_name or run.job_id
    if not name:
        return "(the merge history names no job)"
    status = f", {escape(run.job_status)}" if run.job_status else ""
    return f"(job `{escape(name)}`{status})"


def _since(view: WindowView, run: MergeRun) -> str:
    at = started(run)
    if at is None:
        return "at a time the merge history does not give"
    return f"at {slack_time(at, view.time_zone)}"


def at_start(view: WindowView, looks: Sequence[Look]) -> list[str]:
    """For each environment: the merges still running as the window starts, or why the bot
    cannot tell. Nothing for an environment with none running."""
    lines = []
    for look in looks:
        env = f"`{look.environment}`"
        if look.problem is not None:
            lines.append(
                f":grey_question: {env}: the merge history could not be read before switching "
                f"off ({escape(look.problem)}), so whether a merge is running there is not known."
            )
        for run in look.running:
            lines.append(
                f":hourglass: {env}: a {_kind(run.schedule_type)} merge {_job(run)} started "
                f"{_since(view, run)} is still running. Switching the schedules off now keeps "
                "the next merges from starting; Coursedog does not say whether it stops one "
                "already running, so this one may still write to the SIS. This thread hears "
                "when it finishes."
            )
    return lines


def _which(watch: RunningMergeWatch, view: WindowView) -> str:
    job = "" if watch.job_id == NO_JOB_ID else f" (job `{escape(watch.job_id)}`)"
    return (
        f"The {_kind(watch.schedule_type)} merge{job} that was running when {view.number} started"
    )


def running_merge_over(
    view: WindowView, watch: RunningMergeWatch, newest: MergeRun | None, link: str | None
) -> str:
    """The merge found running at the start is no longer shown running."""
    text = (
        f":checkered_flag: `{watch.environment}`: {_which(watch, view)} has finished: the "
        "merge history no longer shows it running."
    )
    if newest is None:
        return text + " The history shows no finished report of its kind to point to."
    where = f" <{link}|Merge report>" if link else ""
    return (
        text + f" The newest {_kind(newest.schedule_type)} merge report there has status "
        f"`{escape(newest.status)}`.{where}"
    )


def running_merge_not_over(view: WindowView, watch: RunningMergeWatch) -> str:
    """The merge found running at the start still shows as running: the bot stops looking."""
    return (
        f":warning: `{watch.environment}`: {_which(watch, view)} is still shown running; it "
        f"was first seen at {slack_time(watch.found_at, view.time_zone)}. The bot stops "
        "watching it: check the merge history in Coursedog."
    )
