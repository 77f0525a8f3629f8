"""The modals: the request form (redrawn for the chosen start, and submitted), and Deny's
reason."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.grammar import resolve_environments
from bot.domain.requests import CheckedRequest, RequestForm, check_request
from bot.errors import FieldErrors, InputError
from bot.slack import ids
from bot.slack.after_ack import Later
from bot.slack.announce import announce_denial, direct_teller, post_card
from bot.slack.blocks import render_confirmation
from bot.slack.context import SlackDeps
from bot.slack.errors import answering_errors, explain
from bot.slack.forms import REASON_LIMIT, render_request_modal
from bot.slack.payloads import parse_deny_form, parse_request_form, parse_start_choice

log = logging.getLogger(__name__)


def register(app: App, deps: SlackDeps, later: Later) -> None:
    """Attach the listeners of the modals: the request form's, and Deny's."""
    names = deps.settings.environment_names()

    @app.action({"block_id": ids.B_WHEN, "action_id": ids.FIELD_ACTION})
    def on_start_chosen(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        try:
            choice = parse_start_choice(body)
            client.views_update(
                view_id=choice.view_id,
                hash=choice.view_hash,
                view=render_request_modal(deps.labels, choice.start, names.groups),
            )
        except InputError as exc:  # no form to redraw
            log.info("request form not redrawn: %s", exc)
        except SlackApiError as exc:  # the form stays as it was; the submission is checked
            log.info("request form not redrawn: %s", exc.response.get("error"))

    @app.view(ids.REQUEST_VIEW)
    def on_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user = str((body.get("user") or {}).get("id", ""))
        try:
            checked, envs = _checked(parse_request_form(body.get("view") or {}), names)
            requested = deps.windows.request(
                requester=user,
                environments=envs,
                duration=checked.duration,
                reason=checked.reason,
                starts_at=checked.starts_at,
                ends_at=checked.ends_at,
                ticket=checked.ticket,
            )
        except InputError as exc:
            ack(response_action="errors", errors=_on_fields(exc))
            return
        except Exception as exc:  # keep the form open and say what happened
            ack(response_action="errors", errors={ids.B_ENVS: explain(exc)})
            return
        ack()
        tell = direct_teller(client, user)

        def announce() -> None:
            # The card first: without it nobody can approve; post_card withdraws and explains.
            with answering_errors(tell):
                post_card(deps, tell, requested)
            zone = deps.notifier.known_zone(user)  # looked up as the card was drawn
            channel = deps.settings.approvals_channel
            tell(text=render_confirmation(requested.view, channel, reader_zone=zone))

        later.when_quiet(tell, announce)

    @app.view(ids.DENY_VIEW)
    def on_deny(ack: Ack, body: dict[str, Any]) -> None:
        # Denied before the answer, so that a refusal (decided meanwhile, not an approver)
        # shows on the form, which stays open.
        try:
            form = parse_deny_form(body, REASON_LIMIT)
            view = deps.windows.deny(
                window_id=form.window_id, approver=form.user_id, reason=form.reason
            )
        except Exception as exc:  # keep the form open and say what happened
            ack(response_action="errors", errors={ids.B_DENY_REASON: explain(exc)})
            return
        ack()
        later.quietly(lambda: announce_denial(deps, view))


def _checked(form: RequestForm, names: Mapping[str, str]) -> tuple[CheckedRequest, tuple[str, ...]]:
    """The checked request and its environments; FieldErrors with every field that is wrong."""
    problems: dict[str, str] = {}
    checked: CheckedRequest | None = None
    try:
        checked = check_request(form)
    except FieldErrors as exc:
        problems = exc.fields
    envs: tuple[str, ...] = ()
    if form.environments:
        try:
            envs = resolve_environments(",".join(form.environments), names)
        except InputError as exc:
            problems = {"environments": str(exc), **problems}
    if checked is None or problems:
        raise FieldErrors(problems)
    return checked, envs


def _on_fields(exc: InputError) -> dict[str, str]:
    """Slack's ``errors`` for the form: each message on its field's block."""
    fields = exc.fields if isinstance(exc, FieldErrors) else {exc.field or "": str(exc)}
    return {ids.FIELD_BLOCKS.get(field, ids.B_ENVS): message for field, message in fields.items()}
