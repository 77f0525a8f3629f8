"""The slash command's series and blackout subcommands: parse -> one service call -> render."""

from __future__ import annotations

from typing import Protocol, assert_never

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.blackout_grammar import (
    BlackoutAddCommand,
    BlackoutCommand,
    BlackoutListCommand,
    BlackoutRemoveCommand,
)
from bot.domain.series_grammar import (
    SeriesCommand,
    SeriesEditCommand,
    SeriesEndCommand,
    SeriesListCommand,
    SeriesRequestCommand,
    SeriesSkipCommand,
)
from bot.services.series_view import SeriesView
from bot.slack.after_ack import Work
from bot.slack.announce import announce_cancel
from bot.slack.context import SlackDeps
from bot.slack.overview import plain
from bot.slack.series_blocks import (
    render_blackouts,
    render_series_confirmation,
    render_series_list,
)
from bot.slack.text import escape, slack_time, user

HANDLED = (
    SeriesRequestCommand,
    SeriesListCommand,
    SeriesSkipCommand,
    SeriesEditCommand,
    SeriesEndCommand,
    BlackoutAddCommand,
    BlackoutListCommand,
    BlackoutRemoveCommand,
)


class CommandIo(Protocol):
    """Who typed the command and how to answer them."""

    @property
    def user(self) -> str: ...

    @property
    def ack(self) -> Ack: ...

    @property
    def respond(self) -> Respond: ...

    @property
    def client(self) -> WebClient: ...

    def reply(self, text: str) -> None: ...

    def later(self, work: Work) -> None: ...


def handle(deps: SlackDeps, io: CommandIo, parsed: SeriesCommand | BlackoutCommand) -> None:
    """Run one series or blackout command."""
    match parsed:
        case SeriesRequestCommand():
            _request(deps, io, parsed)
        case SeriesListCommand():
            blocks = render_series_list(deps.series.listing(), deps.clock.now())
            io.ack(response_type="ephemeral", text=plain(blocks), blocks=blocks)
        case SeriesSkipCommand():
            _skip(deps, io, parsed)
        case SeriesEditCommand():
            _edit(deps, io, parsed)
        case SeriesEndCommand():
            _end(deps, io, parsed)
        case BlackoutAddCommand():
            _blackout_add(deps, io, parsed)
        case BlackoutListCommand():
            blocks = render_blackouts(deps.blackouts.listing(), deps.clock.now())
            io.ack(response_type="ephemeral", text=plain(blocks), blocks=blocks)
        case BlackoutRemoveCommand():
            period = deps.blackouts.remove(actor=io.user, blackout_id=parsed.blackout_id)
            text = (
                f":wastebasket: {period.key} removed by {user(io.user)}: "
                f"{escape(period.describe())}."
            )
            io.reply(text)
            io.later(lambda: deps.notifier.post_channel(f"blackout-removed:{period.key}", text))
        case _:
            assert_never(parsed)


def _request(deps: SlackDeps, io: CommandIo, parsed: SeriesRequestCommand) -> None:
    view = deps.series.request(
        requester=io.user,
        environments=parsed.environments,
        recurrence=parsed.recurrence,
        reason=parsed.reason,
        override=parsed.override,
    )
    io.reply(render_series_confirmation(view, deps.settings.approvals_channel))
    io.later(lambda: _post_card(deps, io, view))


def _post_card(deps: SlackDeps, io: CommandIo, view: SeriesView) -> None:
    """Post the series card; if Slack refuses, withdraw the series and say why."""
    channel = deps.settings.approvals_channel
    try:
        reply = io.client.chat_postMessage(
            channel=channel, **deps.series_notices.card_payload(view)
        )
    except Exception as exc:  # any failure leaves a series nobody could approve
        error = (
            exc.response.get("error", "unknown_error")
            if isinstance(exc, SlackApiError)
            else type(exc).__name__
        )
        deps.series.withdraw_undelivered(view.id, f"approval card not posted: {error}")
        io.respond(
            response_type="ephemeral",
            text=(
                f":warning: {view.number} was withdrawn: its approval card could not be posted "
                f"in {channel} (Slack said `{error}`)."
            ),
        )
        return
    deps.series.attach_card(view.id, str(reply["channel"]), str(reply["ts"]))


def _skip(deps: SlackDeps, io: CommandIo, parsed: SeriesSkipCommand) -> None:
    result = deps.series.skip(
        actor=io.user, series_id=parsed.series_id, day=parsed.day, window_id=parsed.window_id
    )
    when = slack_time(result.occurrence.start, result.series.recurrence.zone)
    text = f":fast_forward: The occurrence of {result.series.number} on {when} is skipped."
    if result.cancelled is not None:
        text += f" {result.cancelled.number} is cancelled and Coursedog is told."
    io.reply(text)

    def announce() -> None:
        deps.series_notices.in_thread(
            result.series,
            f"skipped:{result.series.id}:{result.occurrence.on.isoformat()}",
            f":fast_forward: {user(io.user)} skipped the occurrence on {when}.",
        )
        if result.cancelled is not None:
            announce_cancel(deps, result.cancelled, io.user)
        deps.series_notices.refresh_card(result.series.id)

    io.later(announce)


def _edit(deps: SlackDeps, io: CommandIo, parsed: SeriesEditCommand) -> None:
    result = deps.series.edit(
        actor=io.user,
        series_id=parsed.series_id,
        wall=parsed.wall,
        duration=parsed.duration,
        ends_wall=parsed.ends_wall,
        override=parsed.override,
    )
    series = result.series
    text = f":pencil2: {series.number} now runs {escape(series.recurrence.describe())}."
    if result.moved:
        moved = ", ".join(v.number for v in result.moved)
        text += f" Moved to the new times: {moved} (Coursedog is told)."
    if result.kept:
        kept = ", ".join(v.number for v in result.kept)
        text += f" {kept} keep their times: their new start has already passed."
    io.reply(text)

    def announce() -> None:
        for view in result.moved:
            assert view.starts_at is not None and view.ends_at is not None
            deps.notifier.in_thread(
                view,
                f"moved:{view.id}:{int(view.starts_at.timestamp())}:{int(view.ends_at.timestamp())}",
                f":pencil2: {user(io.user)} edited {series.number}: {view.number} now runs from "
                f"{slack_time(view.starts_at, view.time_zone)} to "
                f"{slack_time(view.ends_at, view.time_zone)}.",
            )
            deps.notifier.refresh_card(view)
        deps.series_notices.in_thread(
            series, f"edited:{series.id}:{series.recurrence.describe()}", text
        )
        deps.series_notices.refresh_card(series.id)

    io.later(announce)


def _end(deps: SlackDeps, io: CommandIo, parsed: SeriesEndCommand) -> None:
    result = deps.series.end(actor=io.user, series_id=parsed.series_id)
    number = result.series.number
    text = f":checkered_flag: {number} ended by {user(io.user)}: no new occurrences."
    if result.cancelled:
        cancelled = ", ".join(v.number for v in result.cancelled)
        text += f" Cancelled {cancelled}, which had not started; Coursedog is told."
    for view in result.running:
        text += f" {view.number} is running and keeps its end; `end {view.number}` ends it now."
    io.reply(text)

    def announce() -> None:
        for view in result.cancelled:
            announce_cancel(deps, view, io.user)
        deps.series_notices.in_thread(result.series, f"series-ended:{result.series.id}", text)
        deps.series_notices.refresh_card(result.series.id)

    io.later(announce)


def _blackout_add(deps: SlackDeps, io: CommandIo, parsed: BlackoutAddCommand) -> None:
    period, planned = deps.blackouts.add(
        actor=io.user,
        name=parsed.name,
        starts_at=parsed.starts_at,
        ends_at=parsed.ends_at,
        zone=parsed.zone,
        environments=parsed.environments,
    )
    text = (
        f":no_entry_sign: {period.key} added by {user(io.user)}: {escape(period.describe())}. "
        "Requests inside it are refused unless an approver overrides with a reason."
    )
    if planned:
        text += (
            f"\nAlready planned inside it, left as they are: {', '.join(planned)}. "
            "Cancel or skip them if they must not happen."
        )
    io.reply(text)
    io.later(lambda: deps.notifier.post_channel(f"blackout-added:{period.key}", text))
