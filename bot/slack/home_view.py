"""The App Home tab: environments, windows with their buttons, recent history. Pure rendering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.states import HOLDING, WindowState
from bot.services.status import EnvironmentStatus
from bot.services.views import WindowView
from bot.slack import ids
from bot.slack.kit import Block, context, header, section
from bot.slack.overview import status_line, window_line
from bot.slack.text import escape
from bot.slack.window_buttons import window_button

S = WindowState
MAX_WINDOWS = 15  # per group, so the tab stays well under Slack's 100 blocks


def _buttons(view: WindowView) -> list[Block]:
    if view.state in HOLDING:
        return [
            window_button(ids.EXTEND_60, "Extend 1h", view, shown_end=view.ends_at),
            window_button(ids.REENABLE, "Re-enable now", view, "primary"),
        ]
    if view.state == S.REQUESTED:
        return [
            window_button(ids.APPROVE, "Approve", view, "primary"),
            window_button(ids.DENY, "Deny", view, "danger"),
        ]
    if view.state == S.APPROVED:
        return [window_button(ids.CANCEL, "Cancel", view, "danger")]
    return []


def _window_blocks(view: WindowView, now: datetime) -> list[Block]:
    blocks = [section(window_line(view, now))]
    buttons = _buttons(view)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"home_{view.id}", "elements": buttons})
    return blocks


def render_home(
    *,
    statuses: Sequence[EnvironmentStatus],
    labels: Mapping[str, str],
    drivers: Mapping[str, str] | None = None,
    active: Sequence[WindowView] = (),
    upcoming: Sequence[WindowView],
    recent: Sequence[WindowView],
    now: datetime,
    notice: str | None = None,
) -> dict[str, Any]:
    """The home view for one person (the notice, if any, is an answer to their last click)."""
    blocks: list[Block] = []
    if notice:
        blocks.append(section(notice))
    blocks.append(header("Coursedog merges"))
    for status in statuses:
        label = escape(labels.get(status.name, status.name))
        how = f" _({drivers[status.name]})_" if drivers and status.name in drivers else ""
        blocks.append(section(f"*`{status.name}`* {label}{how}\n{status_line(status, now)}"))
    for title, views in (("Active windows", active), ("Upcoming windows", upcoming)):
        blocks += [{"type": "divider"}, header(title)]
        if not views:
            blocks.append(context("None."))
        for view in views[:MAX_WINDOWS]:
            blocks += _window_blocks(view, now)
    blocks += [{"type": "divider"}, header("Recently ended")]
    lines = [window_line(v, now) for v in recent[:5]]
    blocks.append(context("\n".join(lines)) if lines else context("None."))
    blocks.append(context("Type `/sis-maint help` for every command, or `/sis-maint` for a form."))
    return {"type": "home", "blocks": blocks}
