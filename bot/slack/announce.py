"""Announcements shared by listeners: a request's card, a window denied, ended or extended."""

from __future__ import annotations

from typing import Any, cast

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import crashpoint
from bot.domain.states import RowStatus
from bot.errors import SisMaintError
from bot.services.outbox import Outbox
from bot.services.views import WindowView
from bot.services.windows import Requested, WindowService
from bot.slack import messages
from bot.slack.context import SlackDeps
from bot.slack.notifier import CardNotPosted, SlackNotifier
from bot.slack.text import user


def announce_extension(deps: SlackDeps, view: WindowView, actor: str, by: str) -> None:
    """Tell the thread the new end, refresh the card."""
    stamp = int(view.ends_at.timestamp()) if view.ends_at else 0
    deps.notifier.in_thread(view, f"extended:{view.id}:{stamp}", messages.extended(view, actor, by))
    deps.notifier.refresh_card(view)


def announce_end(deps: SlackDeps, view: WindowView, actor: str) -> None:
    """Let the reconciler restore, tell the thread who ended the window, refresh the card.

    The restore starts before Slack has the notice, and its reports wait for the notice: the
    thread reads in order. The card, refreshed from the ledger, need not hold the restore up.
    """
    deps.notifier.tell_first(
        view,
        f"ended:{view.id}",
        f":checkered_flag: {view.number} ended by {user(actor)}. Restoring the schedules "
        "recorded before the window…",
        then=lambda: deps.worker.kick(view.environment_names, reading=True),
    )
    deps.notifier.refresh_card(view)


def announce_denial(deps: SlackDeps, view: WindowView) -> None:
    """Refresh the card (its buttons go) and tell the requester, reason and all."""
    deps.notifier.refresh_card(view)
    deps.notifier.tell_requesters()


def announce_cancel(deps: SlackDeps, view: WindowView, actor: str) -> None:
    """Tell the thread, refresh the card (its buttons go); what a checklist opened early
    switched off is switched back on."""
    early = [e.name for e in view.environments if e.status == RowStatus.ENDING]
    then = (
        f"What was switched off early on {', '.join(f'`{e}`' for e in early)} is switched "
        "back on now."
        if early
        else "Nothing was switched off."
    )
    deps.notifier.in_thread(
        view,
        f"cancelled:{view.id}",
        f":heavy_multiplication_x: {view.number} was cancelled by {user(actor)}. {then}",
    )
    deps.notifier.refresh_card(view)
    if early:
        deps.worker.kick(early)


def post_card(deps: SlackDeps, respond: Respond, requested: Requested) -> None:
    """Post the approval card; if Slack refuses, withdraw the request and say why."""
    crashpoint.reached("card")
    view = requested.view
    try:
        deps.notifier.post_card(view, requested.overlaps, claim=requested.card_claim)
    except CardNotPosted as exc:
        deps.windows.cancel_undelivered(view.id, f"approval card not posted: {exc.error}")
        respond(
            response_type="ephemeral",
            text=_withdrawn(deps.settings.approvals_channel, view, exc.error),
        )


def post_owed_cards(
    outbox: Outbox, notifier: SlackNotifier, windows: WindowService, channel: str
) -> int:
    """Post the cards of requests whose process stopped between its answer and the card.

    The request was recorded and its number given; without a card nobody could approve it.
    Each is taken over once the claim its request made is stale (bot.services.outbox), so
    a poster still at work is left to finish. A card Slack refuses withdraws the request, and
    the requester hears why in a direct message. Returns how many cards were posted.
    """
    posted = 0
    for view in outbox.cards_owed():
        try:
            posted += notifier.post_card(view)
        except CardNotPosted as exc:
            try:
                windows.cancel_undelivered(view.id, f"approval card not posted: {exc.error}")
            except SisMaintError:  # decided meanwhile (cancelled by its requester, say)
                continue
            notifier.direct(
                view.requester_id, f"withdrawn:{view.id}", _withdrawn(channel, view, exc.error)
            )
    return posted


def _withdrawn(channel: str, view: WindowView, error: str) -> str:
    return (
        f":warning: {view.number} was withdrawn: the approval card could not be posted "
        f"in {channel} (Slack said `{error}`). Invite the bot to that "
        "channel, or ask whoever runs sis-maint to check `approvals_channel`."
    )


def direct_teller(client: WebClient, user_id: str) -> Respond:
    """Something shaped like ``respond`` that writes to the user's direct messages instead
    (form submissions have no response_url)."""

    def tell(text: str = "", **_: Any) -> None:
        client.chat_postMessage(channel=user_id, text=text)

    return cast(Respond, tell)
