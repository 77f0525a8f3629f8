"""Buttons on a series' approval card (and on the App Home of those who may decide)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App, Respond

from bot.domain.durations import format_duration
from bot.domain.series_states import SeriesState
from bot.slack import ids
from bot.slack.after_ack import Later
from bot.slack.context import SlackDeps
from bot.slack.listeners.clicks import Click, register_clicks
from bot.slack.listeners.home import answer_on_home
from bot.slack.payloads import WindowAction, parse_window_action
from bot.slack.text import user


def register(app: App, deps: SlackDeps, later: Later) -> None:
    """Attach the Approve / Deny listeners of series cards and of the App Home (one per
    action id of ``CLICKS``, acknowledged at once, done after)."""
    register_clicks(app, deps, later, CLICKS, answer=answer_on_home(deps))


def _on_series(act: Callable[[SlackDeps, WindowAction], None]) -> Click:
    """A click on a button that carries a series number."""

    def click(deps: SlackDeps, body: dict[str, Any], _respond: Respond) -> None:
        act(deps, parse_window_action(body, "series"))

    return click


def _approve(deps: SlackDeps, action: WindowAction) -> None:
    view = deps.series.approve(series_id=action.window_id, approver=action.user_id)
    deps.series_notices.refresh_card(view.id)
    if view.state == SeriesState.REQUESTED:  # one approval of several: wait for the next
        approvals = view.approvals
        deps.series_notices.in_thread(
            view,
            f"series-approval:{view.id}:{action.user_id}",
            f":ballot_box_with_check: {view.number} approved by {user(action.user_id)} "
            f"({approvals.count()}). It needs {approvals.still_needed()} from another "
            f"approver, not {user(view.requester_id)} who asked for it; nothing is scheduled "
            "until then.",
        )
        return
    lookahead = format_duration(deps.settings.series.lookahead)
    people = view.approved_by if len(view.approved_by) > 1 else (action.user_id,)
    by = " and ".join(user(p) for p in people)
    deps.series_notices.in_thread(
        view,
        f"series-approved:{view.id}",
        f":white_check_mark: {view.number} approved by {by}, once for "
        f"every occurrence. Each is scheduled {lookahead} before it starts, with its own "
        "card here, its reminders and its notice to Coursedog.",
    )


def _deny(deps: SlackDeps, action: WindowAction) -> None:
    view = deps.series.deny(series_id=action.window_id, approver=action.user_id)
    deps.series_notices.refresh_card(view.id)
    deps.notifier.direct(
        view.requester_id,
        f"series-denied:{view.id}",
        f":x: Your series {view.number} was denied by {user(action.user_id)}. "
        "Nothing will be scheduled.",
    )


CLICKS: dict[str, Click] = {
    ids.SERIES_APPROVE: _on_series(_approve),
    ids.SERIES_DENY: _on_series(_deny),
}
