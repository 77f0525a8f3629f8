"""The /sis-maint slash command."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.grammar import EndCommand, HelpCommand, StartCommand, parse_command
from bot.errors import UnknownCommand
from bot.services.views import WindowView
from bot.slack import ids
from bot.slack.blocks import help_text, render_confirmation, render_help
from bot.slack.context import SlackDeps
from bot.slack.errors import answering_errors
from bot.slack.text import user


def register(app: App, deps: SlackDeps) -> None:
    """Attach the slash command listener."""
    names = deps.settings.environment_names()

    @app.command(ids.COMMAND)
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        requester = str(command["user_id"])
        try:
            parsed = parse_command(str(command.get("text", "")), names)
        except UnknownCommand as exc:
            ack(response_type="ephemeral", text=help_text(), blocks=render_help(str(exc)))
            return
        match parsed:
            case HelpCommand():
                ack(response_type="ephemeral", text=help_text(), blocks=render_help())
            case StartCommand():
                _start(deps, parsed, requester=requester, ack=ack, respond=respond, client=client)
            case EndCommand():
                _end(deps, parsed, requester, ack, respond)


def _start(
    deps: SlackDeps,
    parsed: StartCommand,
    *,
    requester: str,
    ack: Ack,
    respond: Respond,
    client: WebClient,
) -> None:
    channel = deps.settings.approvals_channel
    view = deps.windows.request(requester=requester, command=parsed)
    ack(response_type="ephemeral", text=render_confirmation(view, channel))
    with answering_errors(respond):
        _post_card(deps, view.id, channel, respond, client)


def _post_card(
    deps: SlackDeps, window_id: int, channel: str, respond: Respond, client: WebClient
) -> None:
    view = deps.windows.get(window_id)
    try:
        reply = client.chat_postMessage(channel=channel, **deps.notifier.message_payload(view))
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        deps.windows.cancel_undelivered(view.id, f"approval card not posted: {error}")
        respond(
            response_type="ephemeral",
            text=(
                f":warning: {view.number} was withdrawn: the approval card could not be posted "
                f"in {channel} (Slack said `{error}`). Invite the bot to that channel, or ask "
                "whoever runs sis-maint to check `approvals_channel`."
            ),
        )
        return
    deps.windows.attach_card(view.id, str(reply["channel"]), str(reply["ts"]))


def _end(deps: SlackDeps, parsed: EndCommand, actor: str, ack: Ack, respond: Respond) -> None:
    view = deps.windows.end(actor=actor, command=parsed)
    envs = ", ".join(f"`{e}`" for e in view.environment_names)
    ack(
        response_type="ephemeral",
        text=f":checkered_flag: Ending *{view.number}*: restoring what was on before on {envs}.",
    )
    with answering_errors(respond):
        _announce_end(deps, view, actor)


def _announce_end(deps: SlackDeps, view: WindowView, actor: str) -> None:
    deps.notifier.in_thread(
        view,
        f"ended:{view.id}",
        f":checkered_flag: {view.number} ended by {user(actor)}. Restoring the schedules "
        "recorded before the window…",
    )
    deps.notifier.refresh_card(view)
    deps.worker.kick(view.environment_names)
