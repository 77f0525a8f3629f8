"""The window routes: each checks the caller's role, calls one service (the ones the slash
command calls) and tells Slack what the slash command would."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from bot.api.answers import Answer, ApiError
from bot.api.bodies import (
    CreateBody,
    EmptyBody,
    ExtendBody,
    read_create,
    read_extend,
    validated,
)
from bot.api.shapes import environments_json, window_json
from bot.api.tokens import APPROVE_FOR_TICKETS, READ, REQUEST, Caller
from bot.domain.durations import format_duration
from bot.domain.grammar import LIST_KINDS, EndCommand
from bot.domain.states import WindowState
from bot.errors import InputError, PermissionDenied
from bot.services.views import WindowView
from bot.slack import messages
from bot.slack.announce import announce_cancel, announce_end, announce_extension
from bot.slack.context import SlackDeps
from bot.slack.notifier import CardNotPosted
from bot.slack.start import tell_approved

log = logging.getLogger(__name__)
MAX_LIMIT = 100


def require(caller: Caller, role: str, what: str) -> None:
    """Refuse unless the caller's token has ``role``."""
    if role not in caller.roles:
        raise PermissionDenied(
            f"Token {caller.name} may not {what}: that needs the role {role!r} "
            f"(it has {', '.join(sorted(caller.roles))})."
        )


def environments(deps: SlackDeps, caller: Caller) -> Answer:
    """GET /environments."""
    require(caller, READ, "read")
    return Answer(200, environments_json(deps.settings))


def listing(deps: SlackDeps, caller: Caller, query: str) -> Answer:
    """GET /windows?state=active&state=upcoming&limit=20."""
    require(caller, READ, "read")
    asked = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(asked) - {"state", "limit"})
    if unknown:
        raise InputError(f"{unknown[0][:40]} is not a parameter of this route", field=unknown[0])
    which = asked.get("state") or ["active", "upcoming"]
    for state in which:
        if state not in LIST_KINDS:
            raise InputError(f"state must be one of {', '.join(LIST_KINDS)}", field="state")
    limit_text = (asked.get("limit") or ["20"])[-1]
    if not (limit_text.isascii() and limit_text.isdigit() and 1 <= int(limit_text) <= MAX_LIMIT):
        raise InputError(f"limit must be a whole number from 1 to {MAX_LIMIT}", field="limit")
    found = [
        window_json(view)
        for state in dict.fromkeys(which)
        for view in deps.status.windows(state, limit=int(limit_text))
    ]
    return Answer(200, {"windows": found})


def one(deps: SlackDeps, caller: Caller, window_id: int) -> Answer:
    """GET /windows/{id}."""
    require(caller, READ, "read")
    return Answer(200, window_json(deps.windows.get(window_id)))


def create(deps: SlackDeps, caller: Caller, body: Any) -> Answer:
    """POST /windows: recorded, its card posted in Slack; approved at once when the caller
    may approve by change ticket and asks to."""
    if not caller.roles & {REQUEST, APPROVE_FOR_TICKETS}:
        require(caller, REQUEST, "request windows")
    parsed = validated(CreateBody, body if body is not None else {})
    if parsed.approval == "ticket":
        require(caller, APPROVE_FOR_TICKETS, "create windows approved by a change ticket")
    else:
        require(caller, REQUEST, "request windows")
    asked = read_create(parsed, deps.settings.environment_names())
    requested = deps.windows.request(
        requester=caller.actor,
        environments=asked.environments,
        duration=asked.duration,
        reason=asked.reason,
        starts_at=asked.starts_at,
        ends_at=asked.ends_at,
        ticket=asked.ticket,
        approved_by_ticket=asked.by_ticket,
    )
    view = requested.view
    try:
        deps.notifier.post_card(view, requested.overlaps, claim=requested.card_claim)
    except CardNotPosted as exc:
        if view.state is WindowState.REQUESTED:  # nobody could approve it: withdrawn
            deps.windows.cancel_undelivered(view.id, f"approval card not posted: {exc.error}")
            raise ApiError(
                502,
                "card_not_posted",
                f"{view.number} was withdrawn: its approval card could not be posted in "
                f"{deps.settings.approvals_channel} (Slack said {exc.error}).",
            ) from None
        # Approved already: the card is owed, and posted by the worker's next chores.
        log.warning("card of %s not posted: %s", view.number, exc.error)
    view = deps.windows.get(view.id)  # with where its card is, for the thread
    if view.state is not WindowState.REQUESTED:
        _announce_approval(deps, view, caller)
    return Answer(201, window_json(view))


def _announce_approval(deps: SlackDeps, view: WindowView, caller: Caller) -> None:
    """The thread is told as an approval in Slack tells it (bot.slack.start)."""
    text = messages.approved(view, caller.actor) + f" (change ticket {view.ticket})"
    tell_approved(deps, view, text)


def change(deps: SlackDeps, caller: Caller, window_id: int, verb: str, body: Any) -> Answer:
    """POST /windows/{id}/extend, /end or /cancel, as the slash command does them."""
    require(caller, REQUEST, f"{verb} windows")
    actor = caller.actor
    if verb == "extend":
        by = read_extend(validated(ExtendBody, body if body is not None else {}))
        view = deps.windows.extend(actor=actor, window_id=window_id, by=by)
        announce_extension(deps, view, actor, format_duration(by))
    elif verb == "end":
        validated(EmptyBody, body or {})
        view = deps.windows.end(actor=actor, command=EndCommand(window_id=window_id))
        announce_end(deps, view, actor)
    else:
        validated(EmptyBody, body or {})
        view = deps.windows.cancel(actor=actor, window_id=window_id)
        announce_cancel(deps, view, actor)
    return Answer(200, window_json(deps.windows.get(view.id)))
