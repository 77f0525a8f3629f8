"""Buttons of the assisted driver's checklist: Done, Was already off, and Posted."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from slack_bolt import App, Respond

from bot.errors import InputError
from bot.services.assisted import COMMENT, SWITCHES
from bot.services.presses import Press
from bot.slack import ids
from bot.slack.after_ack import Later
from bot.slack.button_values import StepButton, WindowEnvironmentButton
from bot.slack.checklist_blocks import comment_posted
from bot.slack.checklist_blocks import render as render_checklist
from bot.slack.context import SlackDeps
from bot.slack.listeners.clicks import Click, register_clicks
from bot.slack.text import escape


def parse_press(body: dict[str, Any], known: Mapping[str, str]) -> tuple[Press, bool, str, str]:
    """The press, whether it said "was already off", and the message it came from."""
    try:
        action = body["actions"][0]
        user_id = str(body["user"]["id"])
        raw = str(action["value"])
        was_off = action["action_id"] == ids.CHECK_WAS_OFF
    except (KeyError, IndexError, TypeError):
        raise InputError("That button press arrived incomplete; try again.") from None
    step = StepButton.decode(raw, known)
    container = body.get("container") or {}
    channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
    ts = str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
    press = Press(user_id, step.window_id, step.environment, step.phase, step.step)
    return press, was_off, channel, ts


def register(app: App, deps: SlackDeps, later: Later) -> None:
    """Attach the checklist's buttons (one per action id of ``CLICKS``, acknowledged at once,
    done after)."""
    register_clicks(app, deps, later, CLICKS)


# A checklist click: the dependencies, the payload, the reply, and the configured names and
# aliases of the environments, which the button's value must name.
Step = Callable[[SlackDeps, dict[str, Any], Respond, Mapping[str, str]], None]


def _named(act: Step) -> Click:
    """A click on a checklist button, checked against the configured environments."""

    def click(deps: SlackDeps, body: dict[str, Any], respond: Respond) -> None:
        act(deps, body, respond, deps.settings.environment_names())

    return click


def _step(
    deps: SlackDeps, body: dict[str, Any], respond: Respond, names: Mapping[str, str]
) -> None:
    """A step done: record it (with reads when there is access) and show the checklist."""
    press, was_off, channel, ts = parse_press(body, names)
    unread = not deps.assisted.reads(press.environment)
    if unread and press.phase == "off" and press.step in SWITCHES:
        # Without a read, the person says what they found: on, or already off.
        press = replace(press, found=not was_off)
    label = deps.labels.get(press.environment, press.environment)
    link = deps.merge_settings.get(press.environment, "")

    def show(note: str | None = None) -> None:
        view = deps.assisted.view(press)
        if view is not None and channel and ts:
            text, blocks = render_checklist(view, label, link, note)
            deps.notifier.update(channel, ts, text, blocks)

    try:
        _, said = deps.assisted.press(press, progress=show)
    finally:
        show()
    respond(text=f"{escape(label)}: {said}", response_type="ephemeral")
    deps.worker.kick([press.environment])


def _early(
    deps: SlackDeps, body: dict[str, Any], respond: Respond, names: Mapping[str, str]
) -> None:
    """Open a window's checklist before its start, for people who switch off early."""
    try:
        raw = str(body["actions"][0]["value"])
        actor = str(body["user"]["id"])
    except (KeyError, IndexError, TypeError):
        raise InputError("That button press arrived incomplete; try again.") from None
    button = WindowEnvironmentButton.decode(raw, names)
    env = button.environment
    deps.assisted.open_early(actor=actor, window_id=button.window_id, environment=env)
    deps.worker.kick([env])
    respond(
        text=f"The checklist for `{env}` opens in MW-{button.window_id}'s thread.",
        response_type="ephemeral",
    )


def _locked(
    deps: SlackDeps, body: dict[str, Any], respond: Respond, names: Mapping[str, str]
) -> None:
    """The settings are locked: hand the checklist's change to Coursedog."""
    press, _, channel, ts = parse_press(body, names)
    view = deps.assisted.hand_to_coursedog(press)
    label = deps.labels.get(press.environment, press.environment)
    if channel and ts:
        link = deps.merge_settings.get(press.environment, "")
        deps.notifier.update(channel, ts, *render_checklist(view, label, link))
    respond(
        text=(
            f"{escape(label)}: handed to Coursedog. The notice to Coursedog support goes out "
            "(or its draft is posted here to send); merges stay as they are until Coursedog "
            "has switched them."
        ),
        response_type="ephemeral",
    )


def _posted(
    deps: SlackDeps, body: dict[str, Any], respond: Respond, names: Mapping[str, str]
) -> None:
    """The Activity comment was posted by hand: record it once and show who did."""
    press, _, _, _ = parse_press(body, names)
    if press.step != COMMENT:
        raise InputError("That button does not name a comment.")
    deps.assisted.press(press)
    text = str((body.get("message") or {}).get("text") or "The Activity comment")
    respond(text=text, blocks=comment_posted(text, press.actor), replace_original=True)


CLICKS: dict[str, Click] = {
    ids.CHECK_DONE: _named(_step),
    ids.CHECK_WAS_OFF: _named(_step),
    ids.CHECK_EARLY: _named(_early),
    ids.CHECK_LOCKED: _named(_locked),
    ids.COMMENT_POSTED: _named(_posted),
}
