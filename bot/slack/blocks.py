"""Block Kit rendering: pure functions from views to blocks. Nothing here talks to Slack."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain.actors import is_api
from bot.domain.approvals import Approvals
from bot.domain.durations import format_duration
from bot.domain.nightly import NightlyMerge
from bot.domain.states import HOLDING, WindowState
from bot.services.conflicts import Overlaps
from bot.services.views import WindowView, ended_clause
from bot.slack import ids
from bot.slack.kit import Block, context, section
from bot.slack.text import escape, moment, slack_time, user
from bot.slack.window_buttons import card_buttons

S = WindowState
NO_OVERLAPS = Overlaps()

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
# More environments than this are listed compactly on a card (see _compact_environments).
CARD_LINES = 6
# Slack's longest text of a section's field.
FIELD_CHARS = 2000
ENVIRONMENTS_HEADING = "*Environments*\n"
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


def _compact_environments(view: WindowView, drivers: Mapping[str, str]) -> str:
    """Many environments: their count, then their names gathered by status (once decided)
    and by how each is switched, within a card field's length."""
    groups: dict[str, list[str]] = {}
    for e in view.environments:
        status = "" if view.state == S.REQUESTED else _ENV_STATUS.get(e.status, e.status)
        how = drivers.get(e.name, "")
        heading = "; ".join(part for part in (status, how) if part)
        groups.setdefault(heading, []).append(e.name)
    lines = [f"{len(view.environments)} environments"]
    # The fewest first: what went wrong is not cut off behind what went well.
    for heading, names in sorted(groups.items(), key=lambda kv: len(kv[1])):
        listed = ", ".join(f"`{n}`" for n in names)
        lines.append(f"{len(names)} {escape(heading)}: {listed}" if heading else listed)
    return _within("\n".join(lines), FIELD_CHARS - len(ENVIRONMENTS_HEADING))


def _within(text: str, limit: int) -> str:
    """``text`` cut at a comma to fit ``limit`` characters, saying that more follow."""
    if len(text) <= limit:
        return text
    cut = text.rfind(",", 0, limit - 12)
    return text[: max(cut, 0)] + ", and more"


def _when(view: WindowView, reader_zone: str | None) -> tuple[str, str, str]:
    """The start, the end field's label, and the end: when it ended, once it has."""
    if view.starts_at is None or view.ends_at is None:
        return "as soon as approved", "End", f"{format_duration(view.duration)} after approval"

    def at(when: datetime) -> str:
        return moment(when, view.time_zone, reader_zone)

    if view.ended_at is None:
        return at(view.starts_at), "End", at(view.ends_at)
    planned = (
        f"\nplanned for {slack_time(view.ends_at, view.time_zone)}" if view.ended_off_plan else ""
    )
    return at(view.starts_at), "Ended", at(view.ended_at) + planned


def nightly_warning(view: WindowView, nightly: NightlyMerge, now: datetime) -> str | None:
    """Say so when the window covers the nightly merge (which then does not run)."""
    if view.state not in (S.REQUESTED, S.APPROVED, *HOLDING):
        return None
    start = view.starts_at or now
    end = view.ends_at or start + view.duration
    if not nightly.covered_by(start, end):
        return None
    return (
        f"This window covers Coursedog's nightly merge ({nightly.describe()}), so that merge "
        "will not run; edits made meanwhile reach the SIS at the first merge after re-enabling."
    )


def is_overdue(view: WindowView, now: datetime) -> bool:
    """Past its end and still holding merges off."""
    return view.state in HOLDING and view.ends_at is not None and view.ends_at <= now


def card_text(view: WindowView) -> str:
    """The plain-text fallback of the card (notifications, screen readers)."""
    envs = ", ".join(view.environment_names)
    return (
        f"{view.number}: merges off on {envs} for {format_duration(view.duration)} ({view.state})"
    )


def render_card(
    view: WindowView,
    labels: Mapping[str, str],
    now: datetime,
    warnings: Sequence[str] = (),
    overlaps: Overlaps = NO_OVERLAPS,
    *,
    drivers: Mapping[str, str] | None = None,
    reader_zone: str | None = None,
) -> list[Block]:
    """The approval card, with the buttons that apply to the window as it is now
    (bot.slack.window_buttons): none once it is over.

    ``overlaps`` are other windows on the same environments whose time overlaps this one's;
    ``drivers`` say how each environment is switched (the bot, or a person by hand);
    ``reader_zone`` is the requester's time zone, None when unknown: the environment's own
    time is added beside each moment unless clocks there read the same.
    """
    start, end_label, end = _when(view, reader_zone)
    drivers = drivers or {}
    envs = (
        _compact_environments(view, drivers)
        if len(view.environments) > CARD_LINES
        else "\n".join(
            f"`{e.name}` {escape(labels.get(e.name, e.name))}"
            + (f" _({drivers[e.name]})_" if e.name in drivers else "")
            + ("" if view.state == S.REQUESTED else f": {_ENV_STATUS.get(e.status, e.status)}")
            for e in view.environments
        )
    )
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{view.number}: SIS maintenance window"},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"{ENVIRONMENTS_HEADING}{envs}"},
                {"type": "mrkdwn", "text": f"*Requested by*\n{user(view.requester_id)}"},
                {"type": "mrkdwn", "text": f"*Start*\n{start}"},
                {"type": "mrkdwn", "text": f"*{end_label}*\n{end}"},
            ],
        },
        section(
            f"*Reason*\n{escape(view.reason) or '_none given_'}"
            + (f"\n*Ticket* {escape(view.ticket)}" if view.ticket else "")
        ),
        context(_STATE_LINE[view.state] + _decision_line(view)),
    ]
    line = approvals_line(view)
    if line:
        blocks.append(context(line))
    buttons = card_buttons(view)
    if buttons:
        blocks.append({"type": "actions", "block_id": ids.BLOCK_DECISION, "elements": buttons})
    if view.failure_reason:
        blocks.append(context(f":warning: {escape(view.failure_reason)}"))
    blocks.extend(context(line) for line in occurrence_lines(view, overlaps))
    blocks.extend(context(f":crescent_moon: {w}") for w in warnings)
    if is_overdue(view, now):
        blocks.append(context(":rotating_light: *Overdue*: past its end and merges are still off."))
    return blocks


def occurrence_lines(view: WindowView, overlaps: Overlaps) -> list[str]:
    """What the card says about the window's series, a blackout override and overlaps."""
    lines = []
    if view.series_id is not None:
        lines.append(
            f":repeat: An occurrence of series S-{view.series_id}, approved once for every "
            f"occurrence. `series skip {view.number}` leaves this one out."
        )
    if view.override_by:
        lines.append(
            f":construction: Inside the blackout period {escape(view.overridden or '')}: "
            f"overridden by {user(view.override_by)}, "
            f"because {escape(view.override_reason or '')}"
        )
    if overlaps.total and view.state in (S.REQUESTED, S.APPROVED, *HOLDING):
        listed = "; ".join(
            f"{o.number} on {', '.join(f'`{e}`' for e in o.environment_names)}"
            + (
                f" ({slack_time(o.starts_at, view.time_zone)} to "
                f"{slack_time(o.ends_at, view.time_zone)}, {o.state})"
                if o.starts_at and o.ends_at
                else f" ({o.state})"
            )
            for o in overlaps.shown
        )
        if overlaps.more:
            listed += f"; and {'at least ' if overlaps.capped else ''}{overlaps.more} more"
        lines.append(
            f":twisted_rightwards_arrows: Overlaps {listed}. Both go ahead: merges stay off "
            "until the last of them ends."
        )
    return lines


def _decision_line(view: WindowView) -> str:
    parts = []
    if view.decided_by and view.state != S.DENIED and is_api(view.decided_by) and view.ticket:
        parts.append(f"Approved by change ticket {escape(view.ticket)} ({user(view.decided_by)})")
    elif view.decided_by and view.state != S.DENIED:
        approvers = view.approved_by if len(view.approved_by) > 1 else (view.decided_by,)
        parts.append(f"Approved by {' and '.join(user(a) for a in approvers)}")
    if view.decided_by and view.state == S.DENIED:
        parts.append(f"Denied by {user(view.decided_by)}")
    if view.ended_by:
        parts.append(f"ended {ended_clause(view)}")
    return (" · " + ", ".join(parts)) if parts else ""


def approvals_line(view: WindowView) -> str | None:
    """While a window that needs more than one approver waits: who has approved, and how many
    more must (never its requester, nor anyone twice)."""
    return waiting_approvals(view.approvals) if view.state == S.REQUESTED else None


def waiting_approvals(approvals: Approvals) -> str | None:
    """Who has approved a request that needs more than one approver, and how many more must."""
    if approvals.required < 2:
        return None
    who = ", ".join(user(a) for a in approvals.by) if approvals.by else "nobody yet"
    return (
        f":busts_in_silhouette: Needs {approvals.required} approvers, not the requester. "
        f"Approved by {who} ({approvals.count()}); {approvals.still_needed()} needed."
    )


def render_confirmation(
    view: WindowView, channel: str, notes: Sequence[str] = (), reader_zone: str | None = None
) -> str:
    """The requester's ephemeral confirmation; ``reader_zone`` is theirs, if known."""
    envs = ", ".join(f"`{e}`" for e in view.environment_names)
    is_id = channel[:1] in "CG" and channel.isupper()
    where = f"<#{channel}>" if is_id else f"#{channel.lstrip('#')}"
    if view.starts_at is None or view.ends_at is None:
        text = (
            f":memo: *{view.number}* requested: merges off on {envs} for "
            f"{format_duration(view.duration)}, starting as soon as an approver agrees in {where}."
        )
    else:
        text = (
            f":memo: *{view.number}* requested: merges off on {envs}\n"
            f"from {moment(view.starts_at, view.time_zone, reader_zone)}\n"
            f"to {moment(view.ends_at, view.time_zone, reader_zone)} "
            f"({format_duration(view.duration)}).\nAn approver must agree in {where} before the "
            "start, or the request expires."
        )
    return "\n".join([text, *(f":information_source: {escape(n)}" for n in notes)])
