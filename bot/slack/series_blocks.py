"""Rendering recurring series and blackout periods: pure functions to Block Kit and text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.domain.blackouts import Blackout
from bot.domain.durations import format_duration
from bot.domain.recurrence import Occurrence
from bot.domain.series_states import SeriesState
from bot.services.series_view import OccurrenceLine, SeriesView, ended_clause
from bot.slack import ids
from bot.slack.blocks import waiting_approvals
from bot.slack.button_values import WindowButton
from bot.slack.kit import Block, actions, button, context, header, section
from bot.slack.text import escape, list_time, slack_time, user

_STATE_LINE = {
    SeriesState.REQUESTED: ":hourglass_flowing_sand: Waiting for an approver",
    SeriesState.APPROVED: ":repeat: Approved once for every occurrence",
    SeriesState.DENIED: ":x: Denied",
    SeriesState.ENDED: ":white_check_mark: Ended: no new occurrences",
}


def series_card_text(view: SeriesView) -> str:
    """The plain-text fallback of a series card."""
    envs = ", ".join(view.environments)
    return f"{view.number}: merges off on {envs} {view.recurrence.describe()} ({view.state})"


def occurrence_text(line: OccurrenceLine, zone: str) -> str:
    """The occurrence's start as Slack shows it, its window (``MW-4, approved``) and any note."""
    text = slack_time(line.occurrence.start, zone)
    if line.window_id is not None:
        text += f" (MW-{line.window_id}, {line.window_state})"
    if line.occurrence.note:
        text += f"\n    _{escape(line.occurrence.note)}_"
    return text


def render_series_card(
    view: SeriesView, labels: Mapping[str, str], lookahead: timedelta
) -> list[Block]:
    """The series' approval card; its buttons go once it is decided."""
    envs = "\n".join(f"`{e}` {escape(labels.get(e, e))}" for e in view.environments)
    zone = view.recurrence.zone
    upcoming = "\n".join(f"• {occurrence_text(line, zone)}" for line in view.upcoming)
    blocks: list[Block] = [
        header(f"{view.number}: recurring SIS maintenance"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Environments*\n{envs}"},
                {"type": "mrkdwn", "text": f"*Requested by*\n{user(view.requester_id)}"},
                {"type": "mrkdwn", "text": f"*Repeats*\n{escape(view.recurrence.describe())}"},
                {
                    "type": "mrkdwn",
                    "text": f"*Each occurrence*\nscheduled {format_duration(lookahead)} "
                    "ahead, with its own card, reminders and notice to Coursedog",
                },
            ],
        },
        section(
            f"*Reason*\n{escape(view.reason) or '_none given_'}"
            + (f"\n*Ticket* {escape(view.ticket)}" if view.ticket else "")
        ),
    ]
    if upcoming:
        blocks.append(section(f"*Next occurrences*\n{upcoming}"))
    blocks.append(context(_STATE_LINE[view.state] + _people(view)))
    waiting = waiting_approvals(view.approvals) if view.state == SeriesState.REQUESTED else None
    if waiting:
        blocks.append(context(waiting))
    if view.skipped:
        days = ", ".join(f"{d:%a %-d %b %Y}" for d in sorted(view.skipped))
        blocks.append(context(f":fast_forward: Skipped: {days}"))
    if view.override_by:
        blocks.append(
            context(
                f":construction: Occurrences inside blackout periods "
                f"({escape(', '.join(view.overridden))}) go ahead: overridden by "
                f"{user(view.override_by)}, because {escape(view.override_reason or '')}"
            )
        )
    if view.state == SeriesState.REQUESTED:
        value = WindowButton.showing(view.id).encode()
        blocks.append(
            actions(
                ids.BLOCK_SERIES_DECISION,
                button(ids.SERIES_APPROVE, "Approve series", value, "primary"),
                button(ids.SERIES_DENY, "Deny", value, "danger"),
            )
        )
    return blocks


def _people(view: SeriesView) -> str:
    parts = []
    if view.decided_by and view.state == SeriesState.DENIED:
        parts.append(f"Denied by {user(view.decided_by)}")
    elif view.decided_by:
        approvers = view.approved_by if len(view.approved_by) > 1 else (view.decided_by,)
        parts.append(f"Approved by {' and '.join(user(a) for a in approvers)}")
    if view.edited_by:
        parts.append(f"edited by {user(view.edited_by)}")
    if view.ended_by:
        parts.append(f"ended {ended_clause(view.ended_by)}")
    return (" · " + ", ".join(parts)) if parts else ""


def render_series_confirmation(view: SeriesView, channel: str) -> str:
    """The requester's ephemeral confirmation."""
    envs = ", ".join(f"`{e}`" for e in view.environments)
    is_id = channel[:1] in "CG" and channel.isupper()
    where = f"<#{channel}>" if is_id else f"#{channel.lstrip('#')}"
    lines = [
        f":memo: *{view.number}* requested: merges off on {envs} "
        f"{escape(view.recurrence.describe())}.",
        *(f"• {occurrence_text(line, view.recurrence.zone)}" for line in view.upcoming),
        f"An approver approves the series once in {where}; each occurrence is then scheduled "
        "ahead of time like an approved window.",
    ]
    return "\n".join(lines)


def render_series_list(views: Sequence[SeriesView], now: datetime) -> list[Block]:
    """Series waiting for a decision or running, with their next occurrences."""
    blocks: list[Block] = [header("Recurring series")]
    if not views:
        blocks.append(context("No recurring series."))
    for view in views:
        blocks.append(section(series_line(view, now)))
    return blocks


def series_line(view: SeriesView, now: datetime) -> str:
    """One series in a list, with its next occurrences."""
    envs = ", ".join(f"`{e}`" for e in view.environments)
    reason = f" — {escape(view.reason[:120])}" if view.reason else ""
    text = (
        f"*{view.number}* {envs} · {view.state} · {escape(view.recurrence.describe())} · "
        f"{user(view.requester_id)}{reason}"
    )
    zone = view.recurrence.zone
    for line in view.upcoming:
        window = f" · MW-{line.window_id} ({line.window_state})" if line.window_id else ""
        text += f"\n    next: {list_time(line.occurrence.start, zone, now)}{window}"
    return text


def render_blackouts(periods: Sequence[Blackout], now: datetime) -> list[Block]:
    """Blackout periods that have not ended, earliest first."""
    blocks: list[Block] = [header("Blackout periods")]
    if not periods:
        blocks.append(context("No blackout periods ahead."))
    for period in periods:
        source = "configuration file" if period.from_config else f"*{period.key}*"
        blocks.append(
            section(
                f"{source} · *{escape(period.name)}* · "
                f"{list_time(period.starts_at, period.zone, now)} to "
                f"{list_time(period.ends_at, period.zone, now)} · {period.where()}"
            )
        )
    blocks.append(
        context(
            "Requests inside a period are refused; an approver may go ahead with "
            "`--override <reason>` at the end of the command."
        )
    )
    return blocks


def occurrence_scheduled(view_number: str, series: SeriesView, note: str | None) -> str:
    """In an occurrence window's thread: where it comes from."""
    text = (
        f":repeat: Scheduled as an occurrence of {series.number} "
        f"({escape(series.recurrence.describe())}), approved by "
        f"{user(series.decided_by or '')}. Merges go off at the start; a reminder comes before. "
        f"`series skip {view_number}` leaves this one out."
    )
    return text + (f"\n:information_source: {escape(note)}" if note else "")


def blacked_out(series: SeriesView, occurrence: Occurrence, period: Blackout) -> str:
    """In the series' thread: an occurrence left out because of a blackout period."""
    return (
        f":no_entry_sign: The occurrence of {series.number} on "
        f"{slack_time(occurrence.start, series.recurrence.zone)} is skipped: it falls in the "
        f"blackout period {escape(period.describe())}. An approver can schedule it as a "
        "single window with `--override <reason>`."
    )


def occurrence_posted(number: str, starts_at: datetime, zone: str) -> str:
    """In the series' thread: an occurrence has its window and card."""
    return f":calendar: {number} scheduled for {slack_time(starts_at, zone)}."
