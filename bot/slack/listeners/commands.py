"""The /sis-maint slash command."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.durations import format_duration
from bot.domain.grammar import (
    EndCommand,
    ExtendCommand,
    HelpCommand,
    ScheduleCommand,
    StartCommand,
    parse_command,
)
from bot.errors import UnknownCommand
from bot.slack import ids
from bot.slack.announce import announce_end, announce_extension
from bot.slack.blocks import help_text, render_confirmation, render_help
from bot.slack.context import SlackDeps
from bot.slack.errors import answering_errors


def register(app: App, deps: SlackDeps) -> None:
    """Attach the slash command listener."""
    names = deps.settings.environment_names()

    @app.command(ids.COMMAND)
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        requester = str(command["user_id"])
        try:
            parsed = parse_command(
                str(command.get("text", "")),
                names,
                now=deps.clock.now(),
                zone_of=deps.settings.time_zone,
            )
        except UnknownCommand as exc:
            ack(response_type="ephemeral", text=help_text(), blocks=render_help(str(exc)))
            return
        match parsed:
            case HelpCommand():
                ack(response_type="ephemeral", text=help_text(), blocks=render_help())
            case ScheduleCommand():
                _schedule(
                    deps, parsed, requester=requester, ack=ack, respond=respond, client=client
                )
            case StartCommand():
                _start(deps, parsed, requester, ack=ack, respond=respond, client=client)
            case EndCommand():
                _end(deps, parsed, requester, ack, respond)
            case ExtendCommand():
                view = deps.windows.extend(
                    actor=requester, window_id=parsed.window_id, by=parsed.by
                )
                ack(response_type="ephemeral", text=f":heavy_plus_sign: {view.number} extended.")
                with answering_errors(respond):
                    announce_extension(deps, view, requester, format_duration(parsed.by))


def _start(
    deps: SlackDeps,
    parsed: StartCommand,
    requester: str,
    *,
    ack: Ack,
    respond: Respond,
    client: WebClient,
) -> None:
    channel = deps.settings.approvals_channel
    view = deps.windows.request(
        requester=requester,
        environments=parsed.environments,
        duration=parsed.duration,
        reason=parsed.reason,
    )
    ack(response_type="ephemeral", text=render_confirmation(view, channel))
    with answering_errors(respond):
        _post_card(deps, view.id, channel, respond, client)


def _schedule(
    deps: SlackDeps,
    parsed: ScheduleCommand,
    requester: str,
    *,
    ack: Ack,
    respond: Respond,
    client: WebClient,
) -> None:
    channel = deps.settings.approvals_channel
    view = deps.windows.request(
        requester=requester,
        environments=parsed.environments,
        duration=parsed.ends_at - parsed.starts_at,
        reason=parsed.reason,
        starts_at=parsed.starts_at,
        ends_at=parsed.ends_at,
        time_zone=parsed.when.start.zone,
    )
    ack(response_type="ephemeral", text=render_confirmation(view, channel, parsed.notes))
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
        announce_end(deps, view, actor)


def _extend(deps: SlackDeps, parsed: ExtendCommand, actor: str, ack: Ack, respond: Respond) -> None:
    view = deps.windows.extend(actor=actor, window_id=parsed.window_id, by=parsed.by)
    ack(response_type="ephemeral", text=f":heavy_plus_sign: {view.number} extended.")
    with answering_errors(respond):
        announce_extension(deps, view, actor, format_duration(parsed.by))
