"""The Slack side of the local sandbox: what Slack sends the bot, and what it keeps of the answers.

The page asks the workspace to type a slash command, press a button, change a choice on a modal
that asks to hear of it, submit or close a modal or open the App Home as one of its people. The
workspace sends the bot what Slack would send: signed with the signing secret, with a response_url
and a trigger_id that lead back here. It keeps what comes back: the acknowledgement's answer, posts
to response_urls, modals opened with views.open and redrawn with views.update, besides everything
the Web API stand-in records.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.sandbox.config import Person
from bot.sandbox.slack_api import Message, SlackStandIn
from bot.sandbox.slack_requests import (
    APP_ID,
    FORM,
    SandboxError,
    block_list,
    button_action,
    home_opened,
    message_parts,
    signed_headers,
)
from bot.slack import ids
from bot.slack.text import escape

# Slack lets an app use a trigger_id once, within three seconds.
TRIGGER_LIFETIME = 3.0


@dataclass
class Modal:
    """A modal open for one person, with the errors the bot put on its fields."""

    id: str
    view: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """What one person sees: channels, messages oldest first, an open modal, the App Home."""

    channels: list[dict[str, str]]
    messages: list[Message]
    modal: Modal | None
    home: dict[str, Any] | None


@dataclass
class _Origin:
    """Where a response_url leads back to."""

    user: str
    channel: str
    echo: str = ""  # the command typed, shown with its first answer
    message_ts: str | None = None  # the message whose button was pressed


@dataclass
class SandboxWorkspace(SlackStandIn):
    """The Web API stand-in plus people, channels and the requests Slack would send."""

    people: tuple[Person, ...] = ()
    channel_names: tuple[str, ...] = ()
    signing_secret: str = ""
    events_url: str = ""
    modals: dict[str, Modal] = field(default_factory=dict)
    echoes: dict[str, str] = field(default_factory=dict)
    # Timestamps of the notes Slack itself shows (the bot did not answer, ...).
    slackbot_notes: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.names.update({person.id: person.name for person in self.people})  # users.info
        self._http = httpx.Client(timeout=10.0)
        self._n = itertools.count(1)
        self._origins: dict[str, _Origin] = {}
        self._triggers: dict[str, tuple[str, float]] = {}

    def stop(self) -> None:
        """Stop serving and sending."""
        super().stop()
        self._http.close()

    # -- who and where ---------------------------------------------------------------------

    def person(self, user: str) -> Person:
        """A person of the workspace, or a SandboxError."""
        for person in self.people:
            if person.id == user:
                return person
        raise SandboxError(f"nobody in this workspace has the id {user!r}")

    def channels(self, user: str) -> list[dict[str, str]]:
        """The channels ``user`` sees: the public ones, then the direct message with the bot."""
        found = []
        for name in self.channel_names:
            channel = self._channel(name)
            if channel is not None:
                found.append({"id": channel, "name": name.lstrip("#"), "kind": "channel"})
        found.append({"id": f"D{user[1:]}", "name": "sis-maint", "kind": "dm"})
        return found

    def seen_by(self, user: str) -> Seen:
        """What ``user`` sees now (channel messages, their own ephemeral ones, their modal)."""
        self.person(user)
        channels = self.channels(user)
        visible = {c["id"] for c in channels}
        with self._cond:
            shown = [m for m in self.messages.values() if m.channel in visible]
            shown += [m for m in self.ephemerals if m.user == user and m.channel in visible]
            shown.sort(key=lambda m: int(m.ts.rsplit(".", 1)[-1]))
            return Seen(channels, shown, self.modals.get(user), self.home.get(user))

    def _where(self, user: str, channel: str) -> str:
        if channel not in {c["id"] for c in self.channels(user)}:
            raise SandboxError(f"{self.person(user).name} is not in channel {channel!r}")
        return channel

    # -- what Slack sends ------------------------------------------------------------------

    def command(self, user: str, channel: str, text: str) -> None:
        """Type ``/sis-maint <text>`` in ``channel`` as ``user``."""
        person, channel = self.person(user), self._where(user, channel)
        origin = _Origin(user, channel, echo=f"{ids.COMMAND} {text}".rstrip())
        form = {
            "token": "sandbox",
            "team_id": self.team,
            "team_domain": "sandbox",
            "channel_id": channel,
            "user_id": user,
            "user_name": person.name,
            "command": ids.COMMAND,
            "text": escape(text),  # as Slack sends what was typed: &, < and > as entities
            "api_app_id": APP_ID,
            "response_url": self._response_url(origin),
            "trigger_id": self._trigger(user),
        }
        reply = self._deliver(urlencode(form), FORM)
        if isinstance(reply, str):
            self._slackbot(user, channel, f"{origin.echo} failed: {reply}", origin.echo)
        elif reply:
            self._reply_to(origin, reply)

    def press(self, user: str, where: dict[str, Any], block: int, element: int | None) -> None:
        """Press a button: ``where`` is {"ts": ...} for a message, {"home": true} for the Home."""
        self.person(user)
        payload: dict[str, Any] = {**self._envelope("block_actions", user), "state": {}}
        if where.get("home"):
            view = self.home.get(user)
            if view is None:
                raise SandboxError("the App Home has not been published for you yet")
            blocks: list[dict[str, Any]] = list(view.get("blocks") or [])
            payload["container"] = {"type": "view", "view_id": f"VH{user}"}
            payload["view"] = {"id": f"VH{user}", **view}
            channel = f"D{user[1:]}"
        else:
            message = self._visible(user, str(where.get("ts", "")))
            blocks, channel = message.blocks, message.channel
            payload.update(message_parts(message, self.bot_user))
            origin = _Origin(user, channel, message_ts=message.ts)
            payload["response_url"] = self._response_url(origin)
        payload["actions"] = [button_action(blocks, block, element)]
        reply = self._deliver(urlencode({"payload": json.dumps(payload)}), FORM)
        if isinstance(reply, str):
            self._slackbot(user, channel, f"That button did not work: {reply}")

    def submit(self, user: str, view_id: str, values: dict[str, Any]) -> None:
        """Submit ``user``'s open modal with the form's state values."""
        modal = self._modal(user, view_id)
        view = {**modal.view, "id": modal.id, "state": {"values": values}}
        payload = {**self._envelope("view_submission", user), "view": view, "response_urls": []}
        reply = self._deliver(urlencode({"payload": json.dumps(payload)}), FORM)
        with self._cond:
            if isinstance(reply, str):
                modal.errors = {"": f"The form could not be sent: {reply}"}
            elif reply.get("response_action") == "errors":
                modal.errors = {str(k): str(v) for k, v in (reply.get("errors") or {}).items()}
            elif reply.get("response_action") in ("update", "push"):
                modal.view, modal.errors = dict(reply.get("view") or {}), {}
            else:
                self.modals.pop(user, None)
            self._cond.notify_all()

    def choose(self, user: str, view_id: str, block_id: str, values: dict[str, Any]) -> None:
        """Change a choice on ``user``'s open modal that the view asked to hear of at once."""
        modal = self._modal(user, view_id)
        block = next(
            (b for b in modal.view.get("blocks") or [] if b.get("block_id") == block_id), None
        )
        if block is None or not block.get("dispatch_action"):
            raise SandboxError(f"the form has no choice {block_id!r} that answers at once")
        element = block.get("element") or {}
        action_id = str(element.get("action_id", ""))
        state = dict((values.get(block_id) or {}).get(action_id) or {})
        view = {**modal.view, "id": modal.id, "state": {"values": values}}
        payload = {
            **self._envelope("block_actions", user),
            "container": {"type": "view", "view_id": modal.id},
            "view": view,
            "actions": [{**state, "block_id": block_id, "action_id": action_id}],
        }
        reply = self._deliver(urlencode({"payload": json.dumps(payload)}), FORM)
        if isinstance(reply, str):
            with self._cond:
                modal.errors = {"": f"That choice did not reach the bot: {reply}"}
                self._cond.notify_all()

    def close(self, user: str, view_id: str) -> None:
        """Close ``user``'s modal (Cancel); the bot hears of it only if the view asked."""
        modal = self._modal(user, view_id)
        with self._cond:
            self.modals.pop(user, None)
        if modal.view.get("notify_on_close"):
            view = {**modal.view, "id": modal.id}
            payload = {**self._envelope("view_closed", user), "view": view, "is_cleared": False}
            self._deliver(urlencode({"payload": json.dumps(payload)}), FORM)

    def open_home(self, user: str) -> None:
        """Open the app's Home tab as ``user`` (an app_home_opened event)."""
        self.person(user)
        body = home_opened(self.team, user, next(self._n))
        reply = self._deliver(json.dumps(body), "application/json")
        if isinstance(reply, str):
            self._slackbot(user, f"D{user[1:]}", f"The App Home did not open: {reply}")

    # -- sending ---------------------------------------------------------------------------

    def _deliver(self, body: str, content_type: str) -> dict[str, Any] | str:
        """POST to the bot signed as Slack signs; the JSON answer, or what went wrong."""
        headers = signed_headers(self.signing_secret, body, content_type)
        try:
            reply = self._http.post(self.events_url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            return f"the bot at {self.events_url} is not answering ({type(exc).__name__})"
        if reply.status_code != 200:
            return f"the bot answered HTTP {reply.status_code}"
        try:
            answer = reply.json() if reply.content.strip() else {}
        except ValueError:
            return {"text": reply.text}  # Slack shows a plain-text acknowledgement as it is
        return answer if isinstance(answer, dict) else {}

    def _envelope(self, kind: str, user: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": "sandbox",
            "team": {"id": self.team, "domain": "sandbox"},
            "user": {"id": user, "name": self.person(user).name, "team_id": self.team},
            "api_app_id": APP_ID,
            "trigger_id": self._trigger(user),
        }

    def _trigger(self, user: str) -> str:
        trigger, now = f"{next(self._n)}.{int(time.time())}.sandbox", time.monotonic()
        with self._cond:
            # Most triggers are never used: forget those past their lifetime.
            self._triggers = {
                k: v for k, v in self._triggers.items() if now - v[1] <= TRIGGER_LIFETIME
            }
            self._triggers[trigger] = (user, now)
        return trigger

    def _response_url(self, origin: _Origin) -> str:
        name = f"r{next(self._n)}"
        with self._cond:
            self._origins[name] = origin
        return self.response_url(name)

    # -- what comes back -------------------------------------------------------------------

    def record_response(self, name: str, body: dict[str, Any]) -> None:
        """A post to a response_url: answer where the command was typed or the button pressed."""
        super().record_response(name, body)
        origin = self._origins.get(name)
        if origin is not None:
            self._reply_to(origin, body)

    def _reply_to(self, origin: _Origin, body: dict[str, Any]) -> None:
        text, blocks = str(body.get("text") or ""), block_list(body.get("blocks"))
        with self._cond:
            target = self._find(origin.message_ts) if origin.message_ts else None
            if target is not None and body.get("delete_original"):
                self.messages.pop(target.ts, None)
                if target in self.ephemerals:
                    self.ephemerals.remove(target)
            elif target is not None and body.get("replace_original"):
                target.text, target.blocks = text, blocks
                target.edits += 1
            elif text or blocks:
                ts = self.new_ts()
                if body.get("response_type") == "in_channel":
                    self.messages[ts] = Message(origin.channel, ts, text, blocks, None)
                else:
                    self.ephemerals.append(
                        Message(origin.channel, ts, text, blocks, None, user=origin.user)
                    )
                if origin.echo:
                    self.echoes[ts], origin.echo = origin.echo, ""
            self._cond.notify_all()

    def _slackbot(self, user: str, channel: str, text: str, echo: str = "") -> None:
        with self._cond:
            ts = self.new_ts()
            self.ephemerals.append(Message(channel, ts, text, [], None, user=user))
            self.slackbot_notes.add(ts)
            if echo:
                self.echoes[ts] = echo
            self._cond.notify_all()

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        issued = self._triggers.pop(str(args.get("trigger_id", "")), None)
        if issued is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        user, at = issued
        if time.monotonic() - at > TRIGGER_LIFETIME:
            return {"ok": False, "error": "expired_trigger_id"}
        answer = super()._views_open(args)
        if answer.get("ok"):
            view = dict(answer["view"])
            self.modals[user] = Modal(str(view.pop("id")), view)
        return answer

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id", ""))
        with self._cond:
            modal = next((m for m in self.modals.values() if m.id == view_id), None)
            if modal is None:
                return {"ok": False, "error": "not_found"}
            answer = super()._views_update(args)
            view = dict(answer["view"])
            view.pop("id")
            modal.view, modal.errors = view, {}
            self._cond.notify_all()
        return answer

    def _find(self, ts: str | None) -> Message | None:
        found = self.messages.get(ts or "")
        return found or next((m for m in self.ephemerals if m.ts == ts), None)

    def _visible(self, user: str, ts: str) -> Message:
        with self._cond:
            message = self._find(ts)
        if message is None or message.user not in (None, user):
            raise SandboxError("that message is gone")
        self._where(user, message.channel)
        return message

    def _modal(self, user: str, view_id: str) -> Modal:
        with self._cond:
            modal = self.modals.get(user)
        if modal is None or modal.id != view_id:
            raise SandboxError("that form is no longer open")
        return modal
