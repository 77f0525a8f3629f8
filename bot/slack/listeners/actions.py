"""Window buttons: on the approval card, in threads, and on the App Home.

The notice draft's buttons are bot.slack.listeners.notices'."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import App, Respond

from bot.domain.durations import format_duration
from bot.domain.grammar import EndCommand
from bot.domain.states import WindowState
from bot.slack import ids, messages
from bot.slack.after_ack import Later
from bot.slack.announce import (
    announce_cancel,
    announce_denial,
    announce_end,
    announce_extension,
)
from bot.slack.context import SlackDeps
from bot.slack.forms import render_deny_modal
from bot.slack.kit import section
from bot.slack.listeners.clicks import Click, register_clicks
from bot.slack.listeners.home import answer_on_home
from bot.slack.payloads import WindowAction, parse_environment_action, parse_window_action
from bot.slack.start import tell_approved
from bot.slack.text import user


def register(app: App, deps: SlackDeps, later: Later) -> None:
    """Attach the button listeners (one per action id of ``CLICKS``).

    A click is acknowledged at once; what it does happens after (see bot.slack.after_ack).
    """
    register_clicks(app, deps, later, CLICKS, answer=answer_on_home(deps))


def _on_window(act: Callable[[SlackDeps, WindowAction], None]) -> Click:
    """A click on a button that carries a window number."""

    def click(deps: SlackDeps, body: dict[str, Any], _respond: Respond) -> None:
        act(deps, parse_window_action(body))

    return click


def _save_state(deps: SlackDeps, body: dict[str, Any], _respond: Respond) -> None:
    action_id, actor, env = parse_environment_action(body, deps.settings.environment_names())
    decision = ids.SAVE_STATE_DECISIONS[action_id]
    deps.windows.decide_save_state(actor=actor, environment=env, decision=decision)
    deps.worker.kick([env])


def _baseline(deps: SlackDeps, body: dict[str, Any], respond: Respond) -> None:
    action_id, actor, env = parse_environment_action(body, deps.settings.environment_names())
    choice = ids.BASELINE_CHOICES[action_id]
    restore = deps.windows.decide_baseline(actor=actor, environment=env, choice=choice)
    deps.worker.kick([env])  # a window that already ended is restored now
    text = messages.baseline_chosen(env, actor, restore)
    respond(text=text, blocks=[section(text)], replace_original=True)


def _approve(deps: SlackDeps, action: WindowAction) -> None:
    view = deps.windows.approve(window_id=action.window_id, approver=action.user_id)
    if view.state is WindowState.REQUESTED:  # one approval of several: wait for the next
        text = messages.approval_added(view, action.user_id)
        deps.notifier.in_thread(view, f"approval:{view.id}:{action.user_id}", text)
        deps.notifier.refresh_card(view)
        return

    # Approved for a later start: nothing is switched now (bot.slack.start). The card follows
    # (refreshed from the ledger, so it cannot overwrite what the worker shows).
    tell_approved(deps, view, messages.approved(view, action.user_id))
    deps.notifier.refresh_card(view)
    deps.notifier.tell_requesters()  # "approved by", owed with the approval


def _extend(deps: SlackDeps, action: WindowAction) -> None:
    by = timedelta(minutes=ids.EXTEND_MINUTES[action.action_id])
    view = deps.windows.extend(
        actor=action.user_id, window_id=action.window_id, by=by, seen_end=action.shown_end
    )
    announce_extension(deps, view, action.user_id, format_duration(by))


def _reenable(deps: SlackDeps, action: WindowAction) -> None:
    view = deps.windows.end(actor=action.user_id, command=EndCommand(window_id=action.window_id))
    announce_end(deps, view, action.user_id)


def _cancel(deps: SlackDeps, action: WindowAction) -> None:
    view = deps.windows.cancel(actor=action.user_id, window_id=action.window_id)
    announce_cancel(deps, view, action.user_id)


def _deny(deps: SlackDeps, body: dict[str, Any], respond: Respond) -> None:
    """Open the modal that asks for a reason (bot.slack.listeners.views denies on submit).
    If Slack will not open it (the click's trigger expired, say), deny as pressed, without a
    reason, and tell the approver so."""
    action = parse_window_action(body)
    view = deps.windows.check_may_decide(
        window_id=action.window_id, approver=action.user_id, verb="deny"
    )
    trigger = str(body.get("trigger_id") or "")
    refused = deps.notifier.open_modal(trigger, render_deny_modal(view)) if trigger else "none"
    if refused is None:
        return
    denied = deps.windows.deny(window_id=action.window_id, approver=action.user_id)
    announce_denial(deps, denied)
    text = (
        f":x: {denied.number} is denied. The form for a reason could not be opened (Slack "
        f"said `{refused}`), so {user(denied.requester_id)} was told without one."
    )
    if body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, text=text)
    else:  # pressed on the App Home
        deps.home.teller(action.user_id)(text=text)


CLICKS: dict[str, Click] = {
    ids.APPROVE: _on_window(_approve),
    ids.DENY: _deny,
    ids.EXTEND_30: _on_window(_extend),
    ids.EXTEND_60: _on_window(_extend),
    ids.REENABLE: _on_window(_reenable),
    ids.END_NOW: _on_window(_reenable),
    ids.CANCEL: _on_window(_cancel),
    ids.SAVE_STATE_RESTORE: _save_state,
    ids.SAVE_STATE_LEAVE: _save_state,
    ids.BASELINE_OBSERVED: _baseline,
    ids.BASELINE_FOUND: _baseline,
}
