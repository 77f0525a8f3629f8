"""The notice draft's buttons (*Show the draft*, *Sent it*) and its modal's *Sent it*."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.services.notice_drafts import Confirmed
from bot.slack import ids, notice_blocks
from bot.slack.after_ack import Later
from bot.slack.announce import direct_teller
from bot.slack.context import SlackDeps
from bot.slack.errors import explain
from bot.slack.listeners.clicks import Click, register_clicks
from bot.slack.payloads import parse_notice_submit, parse_window_action, trigger_of


def register(app: App, deps: SlackDeps, later: Later) -> None:
    """Attach the buttons of ``CLICKS`` and the modal's submission."""
    register_clicks(app, deps, later, CLICKS)

    @app.view(ids.NOTICE_VIEW)
    def on_sent(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body.get("view") or {}
        try:
            submit = parse_notice_submit(body)
            answer = deps.notices.confirm_sent(actor=submit.user_id, notice_id=submit.notice_id)
        except Exception as exc:  # the modal stays open and says why nothing was recorded
            ack(response_action="update", view=notice_blocks.refused(view, explain(exc)))
            return
        ack()
        tell = direct_teller(client, submit.user_id)
        later(tell, lambda: _tell_thread(deps, answer))


def _tell_thread(deps: SlackDeps, answer: Confirmed) -> None:
    """Mark the version's line in the thread as sent (a line of its own if it has none)."""
    view = deps.windows.get(answer.notice.window_id)
    text, blocks = notice_blocks.confirmed(answer, deps.clock.now(), view.time_zone)
    where = deps.outbox.posted_message(answer.notice.key)
    if where is not None:
        deps.notifier.update(*where, text, blocks)
    else:
        deps.notifier.in_thread(view, f"notice-sent:{answer.notice.id}", text, blocks=blocks)


def _show(deps: SlackDeps, body: dict[str, Any], respond: Respond) -> None:
    trigger = trigger_of(body)
    shown = deps.notices.show(parse_window_action(body, "notice").window_id)
    error = deps.notifier.open_modal(trigger, notice_blocks.modal(shown))
    if error is not None:  # a trigger lives three seconds: a slow Slack outlives it
        respond(
            text=f":no_entry_sign: Slack did not open the draft ({error}); press "
            "*Show the draft* again.",
            response_type="ephemeral",
            replace_original=False,
        )


def _sent(deps: SlackDeps, body: dict[str, Any], respond: Respond) -> None:
    action = parse_window_action(body, "notice")
    answer = deps.notices.confirm_sent(actor=action.user_id, notice_id=action.window_id)
    zone = deps.windows.get(answer.notice.window_id).time_zone
    text, blocks = notice_blocks.confirmed(answer, deps.clock.now(), zone)
    respond(text=text, blocks=blocks, replace_original=True)


CLICKS: dict[str, Click] = {
    ids.NOTICE_SHOW: _show,
    ids.NOTICE_SENT: _sent,
}
