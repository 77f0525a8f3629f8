"""Buttons: on the approval card, in threads, and on the App Home; and opening the App Home."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import App, Respond

from bot.domain.durations import format_duration
from bot.domain.grammar import EndCommand
from bot.domain.states import WindowState
from bot.slack import ids, messages, notice_blocks
from bot.slack.after_ack import Later
from bot.slack.announce import announce_cancel, announce_end, announce_extension
from bot.slack.context import SlackDeps
from bot.slack.kit import section
from bot.slack.listeners.clicks import Click, register_clicks
from bot.slack.merge_messages import at_start
from bot.slack.payloads import WindowAction, parse_environment_action, parse_window_action
from bot.slack.text import user


def register(app: App, deps: SlackDeps, later: Later) -> None:
    """Attach the button listeners (one per action id of ``CLICKS``) and the App Home.

    A click is acknowledged at once; what it does happens after (see bot.slack.after_ack).
    """

    def answer(body: dict[str, Any], respond: Respond) -> Respond:
        # A click on the App Home has no response_url: answer on the tab instead.
        if body.get("response_url"):
            return respond
        return deps.home.teller(str((body.get("user") or {}).get("id", "")))

    register_clicks(app, deps, later, CLICKS, answer=answer)

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and event.get("user"):
            later.quietly(lambda: deps.home.opened(str(event["user"])))


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


def _notice_sent(deps: SlackDeps, body: dict[str, Any], respond: Respond) -> None:
    action = parse_window_action(body, "notice")
    notice = deps.notices.confirm_sent(actor=action.user_id, notice_id=action.window_id)
    zone = deps.windows.get(notice.window_id).time_zone
    text, blocks = notice_blocks.confirmed(notice, deps.clock.now(), zone)
    respond(text=text, blocks=blocks, replace_original=True)


def _approve(deps: SlackDeps, action: WindowAction) -> None:
    view = deps.windows.approve(window_id=action.window_id, approver=action.user_id)
    if view.state is WindowState.REQUESTED:  # one approval of several: wait for the next
        text = messages.approval_added(view, action.user_id)
        deps.notifier.in_thread(view, f"approval:{view.id}:{action.user_id}", text)
        deps.notifier.refresh_card(view)
        return

    def kick() -> None:
        if view.state is WindowState.ACTIVE:  # not one approved for a later start
            deps.worker.kick(view.environment_names, reading=True)

    # A window that starts now: what merges are running is read first (bounded), so the thread
    # says so with "approved", before "switched off"; the watch of them is planned after.
    starts = view.state is WindowState.ACTIVE
    looks = deps.running_merges.look(view.environment_names) if starts else []
    # The worker starts at once; the thread still says "approved" before "switched off". The
    # card follows (refreshed from the ledger, so it cannot overwrite what the worker shows).
    text = "\n".join([messages.approved(view, action.user_id), *at_start(view, looks)])
    deps.notifier.tell_first(view, f"approved:{view.id}", text, then=kick)
    deps.notifier.refresh_card(view)
    deps.running_merges.watch(view.id, looks)


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


def _deny(deps: SlackDeps, action: WindowAction) -> None:
    view = deps.windows.deny(window_id=action.window_id, approver=action.user_id)
    deps.notifier.refresh_card(view)
    deps.notifier.direct(
        view.requester_id,
        f"denied:{view.id}",
        f":x: Your request {view.number} was denied by {user(action.user_id)}. "
        "Nothing was switched off.",
    )


CLICKS: dict[str, Click] = {
    ids.APPROVE: _on_window(_approve),
    ids.DENY: _on_window(_deny),
    ids.EXTEND_30: _on_window(_extend),
    ids.EXTEND_60: _on_window(_extend),
    ids.REENABLE: _on_window(_reenable),
    ids.CANCEL: _on_window(_cancel),
    ids.SAVE_STATE_RESTORE: _save_state,
    ids.SAVE_STATE_LEAVE: _save_state,
    ids.BASELINE_OBSERVED: _baseline,
    ids.BASELINE_FOUND: _baseline,
    ids.NOTICE_SENT: _notice_sent,
}
