"""The /sis-maint slash command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, assert_never

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.domain.commands import parse
from bot.domain.durations import format_duration
from bot.domain.grammar import (
    CancelCommand,
    Command,
    EndCommand,
    ExtendCommand,
    HelpCommand,
    HistoryCommand,
    ListCommand,
    ScheduleCommand,
    StartCommand,
    StatusCommand,
)
from bot.errors import UnknownCommand
from bot.services.windows import Requested
from bot.slack import ids
from bot.slack.after_ack import Later, Work
from bot.slack.announce import announce_cancel, announce_end, announce_extension, post_card
from bot.slack.blocks import occurrence_lines, render_confirmation
from bot.slack.context import SlackDeps
from bot.slack.forms import render_request_modal
from bot.slack.help_blocks import help_blocks
from bot.slack.listeners import series_commands
from bot.slack.overview import plain, render_history, render_status, render_windows
from bot.slack.series_blocks import render_series_list
from bot.slack.text import command_text, escape, slack_time


@dataclass(frozen=True)
class _Io:
    """Who typed the command and how to answer them."""

    user: str
    ack: Ack
    respond: Respond
    client: WebClient
    run_later: Later

    def reply(self, text: str) -> None:
        """Acknowledge with a message only the user sees."""
        self.ack(response_type="ephemeral", text=text)

    def later(self, work: Work) -> None:
        """After the acknowledgement: ``work``, its errors told to the user."""
        self.run_later(self.respond, work)

    def at_lull(self, work: Work) -> None:
        """Like ``later``, at the next lull in requests (see bot.slack.after_ack)."""
        self.run_later.when_quiet(self.respond, work)


def register(app: App, deps: SlackDeps, later: Later) -> None:
    """Attach the slash command listener.

    Each command answers in its acknowledgement what it decided (a new window's number, a
    refusal) and leaves posting and reading to after it (see bot.slack.after_ack).
    """
    names = deps.settings.environment_names()

    @app.command(ids.COMMAND)
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        io = _Io(str(command["user_id"]), ack, respond, client, later)
        text = command_text(str(command.get("text", "")))
        if not text.strip():
            _open_form(deps, io, str(command.get("trigger_id", "")))
            return
        try:
            parsed = parse(
                text,
                names,
                now=deps.clock.now(),
                zone_of=deps.settings.time_zone,
                default_zone=deps.settings.defaults.time_zone,
            )
        except UnknownCommand as exc:  # the closest commands, not the whole help
            io.reply(f":grey_question: {escape(str(exc))}")
            return
        if isinstance(parsed, series_commands.HANDLED):
            series_commands.handle(deps, io, parsed)
        else:
            _dispatch(deps, io, parsed)


def _dispatch(deps: SlackDeps, io: _Io, parsed: Command) -> None:
    """One window command: parse -> one service call -> render."""
    match parsed:
        case HelpCommand():
            text, blocks = help_blocks(parsed.topic, deps.settings)
            io.ack(response_type="ephemeral", text=text, blocks=blocks)
        case StartCommand():
            _start(deps, io, parsed)
        case ScheduleCommand():
            _schedule(deps, io, parsed)
        case EndCommand():
            _end(deps, io, parsed)
        case ExtendCommand():
            _extend(deps, io, parsed)
        case CancelCommand():
            _cancel(deps, io, parsed)
        case StatusCommand():
            _status(deps, io, parsed)
        case ListCommand():
            _list(deps, io, parsed)
        case HistoryCommand():
            _history(deps, io, parsed)
        case _:
            assert_never(parsed)


def _start(deps: SlackDeps, io: _Io, parsed: StartCommand) -> None:
    requested = deps.windows.request(
        requester=io.user,
        environments=parsed.environments,
        duration=parsed.duration,
        reason=parsed.reason,
        override=parsed.override,
    )
    text = render_confirmation(
        requested.view,
        deps.settings.approvals_channel,
        reader_zone=deps.notifier.known_zone(io.user),
    )
    io.reply(_with_notes(requested, text))
    io.at_lull(lambda: post_card(deps, io.respond, requested))


def _schedule(deps: SlackDeps, io: _Io, parsed: ScheduleCommand) -> None:
    requested = deps.windows.request(
        requester=io.user,
        environments=parsed.environments,
        duration=parsed.ends_at - parsed.starts_at,
        reason=parsed.reason,
        starts_at=parsed.starts_at,
        ends_at=parsed.ends_at,
        time_zone=parsed.when.start.zone,
        override=parsed.override,
    )
    text = render_confirmation(
        requested.view,
        deps.settings.approvals_channel,
        parsed.notes,
        reader_zone=deps.notifier.known_zone(io.user),
    )
    io.reply(_with_notes(requested, text))
    io.at_lull(lambda: post_card(deps, io.respond, requested))


def _with_notes(requested: Requested, text: str) -> str:
    """The confirmation, with what the card will say about a blackout override and overlaps."""
    return "\n".join([text, *occurrence_lines(requested.view, requested.overlaps)])


def _end(deps: SlackDeps, io: _Io, parsed: EndCommand) -> None:
    view = deps.windows.end(actor=io.user, command=parsed)
    envs = ", ".join(f"`{e}`" for e in view.environment_names)
    io.reply(f":checkered_flag: Ending *{view.number}*: restoring what was on before on {envs}.")
    io.later(lambda: announce_end(deps, view, io.user))


def _extend(deps: SlackDeps, io: _Io, parsed: ExtendCommand) -> None:
    view = deps.windows.extend(actor=io.user, window_id=parsed.window_id, by=parsed.by)
    assert view.ends_at is not None  # only a window with a set end can be extended
    io.reply(
        f":heavy_plus_sign: {view.number} extended by {format_duration(parsed.by)}; it now ends "
        f"at {slack_time(view.ends_at, view.time_zone)}."
    )
    io.later(lambda: announce_extension(deps, view, io.user, format_duration(parsed.by)))


def _cancel(deps: SlackDeps, io: _Io, parsed: CancelCommand) -> None:
    view = deps.windows.cancel(actor=io.user, window_id=parsed.window_id)
    io.reply(f":heavy_multiplication_x: {view.number} cancelled. Nothing was switched off.")
    io.later(lambda: announce_cancel(deps, view, io.user))


def _status(deps: SlackDeps, io: _Io, parsed: StatusCommand) -> None:
    # Reading Coursedog can take seconds: acknowledge first, answer through response_url.
    io.ack()

    def answer() -> None:
        names = list(parsed.environments or deps.settings.environments)
        blocks = render_status(
            deps.status.environments(names),
            deps.labels,
            deps.clock.now(),
            deps.settings.defaults.time_zone,
        )
        io.respond(response_type="ephemeral", text=plain(blocks), blocks=blocks)

    io.later(answer)


def _list(deps: SlackDeps, io: _Io, parsed: ListCommand) -> None:
    groups = {which: deps.status.windows(which, limit=15) for which in parsed.which}
    now = deps.clock.now()
    blocks = render_windows(groups, now)
    series = deps.series.listing() if "upcoming" in parsed.which else []
    if series:  # what recurs comes after the windows it already made
        blocks += render_series_list(series, now)
    io.ack(response_type="ephemeral", text=plain(blocks), blocks=blocks)


def _history(deps: SlackDeps, io: _Io, parsed: HistoryCommand) -> None:
    entries = deps.status.history(parsed.environment, parsed.limit)
    blocks = render_history(
        entries, parsed.environment, deps.settings.defaults.time_zone, deps.clock.now()
    )
    io.ack(response_type="ephemeral", text=plain(blocks), blocks=blocks)


def _open_form(deps: SlackDeps, io: _Io, trigger_id: str) -> None:
    # A trigger id expires within seconds: open the form before anything else.
    io.client.views_open(
        trigger_id=trigger_id,
        view=render_request_modal(deps.labels, groups=deps.settings.environment_names().groups),
    )
    io.ack()
