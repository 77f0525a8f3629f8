"""Block Kit rendering: pure functions from views to blocks. Nothing here talks to Slack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.grammar import EXAMPLES, HELP_LINES
from bot.domain.states import WindowState
from bot.services.reports import Report, ReportKind
from bot.services.views import WindowView
from bot.slack import ids
from bot.slack.payloads import window_button_value
from bot.slack.text import escape, slack_time, user

Block = dict[str, Any]
S = WindowState

_STATE_LINE = {
    S.REQUESTED: ":hourglass_flowing_sand: Waiting for an approver",
    S.APPROVED: ":calendar: Approved; starts on time",
    S.ACTIVE: ":no_entry: Active: merges are held off",
    S.ENDED: ":white_check_mark: Ended",
    S.DENIED: ":x: Denied",
    S.CANCELLED: ":heavy_multiplication_x: Cancelled",
    S.EXPIRED: ":zzz: Expired without a decision",
    S.FAILED: ":warning: Needs a person",
}
_ENV_STATUS = {
    "pending": "waiting to switch off",
    "off": "off (verified)",
    "failed": "could not switch off",
    "ending": "restoring",
    "restored": "restored (verified)",
    "restore_failed": "could not restore",
    "handed_over": "still held by another window",
    "released": "untouched",
}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _when(view: WindowView) -> tuple[str, str]:
    if view.starts_at is None or view.ends_at is None:
        return "as soon as approved", f"{format_duration(view.duration)} after approval"
    return slack_time(view.starts_at, view.time_zone), slack_time(view.ends_at, view.time_zone)


def card_text(view: WindowView) -> str:
    """The plain-text fallback of the card (notifications, screen readers)."""
    envs = ", ".join(view.environment_names)
    return (
        f"{view.number}: merges off on {envs} for {format_duration(view.duration)} ({view.state})"
    )


def render_card(view: WindowView, labels: Mapping[str, str]) -> list[Block]:
    """The approval card; its buttons disappear once the window is decided."""
    start, end = _when(view)
    envs = "\n".join(
        f"`{e.name}` {escape(labels.get(e.name, e.name))}"
        + ("" if view.state == S.REQUESTED else f": {_ENV_STATUS.get(e.status, e.status)}")
        for e in view.environments
    )
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{view.number}: SIS maintenance window"},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Environments*\n{envs}"},
                {"type": "mrkdwn", "text": f"*Requested by*\n{user(view.requester_id)}"},
                {"type": "mrkdwn", "text": f"*Start*\n{start}"},
                {"type": "mrkdwn", "text": f"*End*\n{end}"},
            ],
        },
        _section(f"*Reason*\n{escape(view.reason) or '_none given_'}"),
        _context(_STATE_LINE[view.state] + _decision_line(view)),
    ]
    if view.state == S.REQUESTED:
        value = window_button_value(view.id)
        blocks.append(
            {
                "type": "actions",
                "block_id": ids.BLOCK_DECISION,
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.APPROVE,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "value": value,
                    },
                    {
                        "type": "button",
                        "action_id": ids.DENY,
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Deny"},
                        "value": value,
                    },
                ],
            }
        )
    if view.failure_reason:
        blocks.append(_context(f":warning: {escape(view.failure_reason)}"))
    return blocks


def _decision_line(view: WindowView) -> str:
    parts = []
    if view.decided_by and view.state != S.DENIED:
        parts.append(f"Approved by {user(view.decided_by)}")
    if view.decided_by and view.state == S.DENIED:
        parts.append(f"Denied by {user(view.decided_by)}")
    if view.ended_by:
        parts.append(f"ended by {user(view.ended_by)}")
    return (" · " + ", ".join(parts)) if parts else ""


def render_confirmation(view: WindowView, channel: str) -> str:
    """The requester's ephemeral confirmation."""
    envs = ", ".join(f"`{e}`" for e in view.environment_names)
    where = (
        channel
        if channel.startswith("#")
        else f"<#{channel}>"
        if channel[:1] in "CG"
        else f"#{channel}"
    )
    return (
        f":memo: *{view.number}* requested: merges off on {envs} for "
        f"{format_duration(view.duration)}, starting as soon as an approver agrees in {where}."
    )


def render_help(error: str | None = None) -> list[Block]:
    """The grammar with examples; an optional line saying what went wrong first."""
    lines = "\n".join(f"`/sis-maint {usage}`  {what}" for usage, what in HELP_LINES)
    examples = "\n".join(f"• `/sis-maint {e}`" for e in EXAMPLES)
    blocks: list[Block] = []
    if error:
        blocks.append(_section(f":grey_question: {escape(error)}"))
    blocks += [
        _section(f"*sis-maint* switches Coursedog merges off around SIS maintenance.\n{lines}"),
        _section(f"*Examples*\n{examples}"),
        _context("Durations: `45m`, `2h`, `1h30m`, `1d`. Windows are numbered `MW-1`, `MW-2`, …"),
    ]
    return blocks


def help_text() -> str:
    """The plain-text fallback of the help message."""
    return "sis-maint commands: " + "; ".join(usage for usage, _ in HELP_LINES)


def render_report(report: Report, labels: Mapping[str, str]) -> str:
    """One thread message for one outcome on one environment."""
    env = f"`{report.environment}` ({escape(labels.get(report.environment, report.environment))})"
    before = report.before.describe() if report.before else "unknown"
    after = report.after.describe() if report.after else "unknown"
    match report.kind:
        case ReportKind.SWITCHED_OFF:
            text = (
                f":no_entry: {env}: merges switched off and verified by reading back. "
                f"Was {before}; now {after}."
            )
        case ReportKind.ALREADY_OFF:
            text = (
                f":information_source: {env}: no merge schedule was on ({before}); "
                "nothing to switch off."
            )
        case ReportKind.OFF_FAILED:
            text = (
                f":warning: {env}: could not switch merges off: {escape(report.detail)}. "
                "The bot retries on its own; check Merge Settings if the outage is about to begin."
            )
        case ReportKind.RESTORED:
            text = (
                f":white_check_mark: {env}: schedule restored and verified: {after} "
                f"(during the window: {before})."
            )
        case ReportKind.RESTORE_FAILED:
            text = (
                f":warning: {env}: could not restore the schedule: {escape(report.detail)}. "
                "The bot retries on its own; until then merges stay off."
            )
        case ReportKind.HANDED_OVER:
            text = f":lock: {env}: stays off, because {report.detail} still holds it."
        case ReportKind.ASSISTED:
            text = (
                f":raised_hand: {env} is switched by hand: in Coursedog's Merge Settings set it to "
                f"{after} (now {before}), then save. The bot checks by reading and reports here."
            )
    if report.window_state == S.FAILED:
        text += "\nThe window is marked *needs a person*."
    elif report.window_state == S.ACTIVE:
        text += "\nThe window is back in effect."
    return text
