"""What a request to /slack/events must look like before Bolt sees it. Pure functions.

Bolt trusts Slack's shapes: a view without ``type`` or an ``actions`` that is not a list
makes it raise instead of answering, and it reads any form body that merely contains the
word ``payload`` as an empty request. So the body is parsed here, once, and its envelope
checked; Bolt then gets the parsed document as JSON.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

MAX_FORM_FIELDS = 100
# Keys Slack sends as objects (or null), lists of objects, or strings, when it sends them.
OBJECT_KEYS = (
    "container",
    "message",
    "view",
    "state",
    "function_data",
    "workflow_step",
    "assistant_thread",
    "item",
    "previous_message",
)
LIST_KEYS = ("actions", "authorizations", "response_urls")
STRING_KEYS = ("type", "api_app_id", "team_id", "user_id", "trigger_id", "response_url", "command")
# In events these may be ids (strings); in interactive payloads they are always objects.
ID_OR_OBJECT_KEYS = ("team", "user", "channel", "enterprise")
INTERACTIVE = ("block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut")
VIEW_TYPES = ("view_submission", "view_closed")


class MalformedRequest(ValueError):
    """The body cannot be a request from Slack; the message says which part and why."""


def body_text(body: bytes) -> str:
    """The raw body as text; Slack sends (and signs) UTF-8 only."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not UTF-8 text") from None


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Slack's JSON (events) or form (commands, interactivity) body, as one document."""
    media = content_type.split(";", 1)[0].strip().lower()
    text = body_text(body)
    if media == "application/json":
        return _json_object(text, "the JSON body")
    if media != "application/x-www-form-urlencoded":
        raise MalformedRequest(f"content type {media or '(none)'!r} is not one Slack sends")
    try:
        fields = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise MalformedRequest(f"the form has more than {MAX_FORM_FIELDS} fields") from None
    form = dict(fields)
    if "payload" in form:
        return _json_object(form["payload"], "the payload field")
    return form


def check_envelope(document: dict[str, Any]) -> None:
    """Refuse a document whose envelope Bolt would trip over, naming the first bad part."""
    _check_kinds(document)
    kind = document.get("type")
    if kind in INTERACTIVE:
        _check_interactive(document, str(kind))
    if kind in VIEW_TYPES:
        _check_view(document, str(kind))
    elif kind == "block_actions":
        _check_actions(document)
    elif kind == "event_callback":
        event = document.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedRequest("an event_callback has no event type")
    elif "command" in document:
        for key in ("user_id", "trigger_id"):
            if not document.get(key):
                raise MalformedRequest(f"a slash command has no {key}")


def _check_interactive(document: dict[str, Any], kind: str) -> None:
    user = document.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise MalformedRequest(f"a {kind} payload names no user")
    for key in ID_OR_OBJECT_KEYS:
        if document.get(key) is not None and not isinstance(document[key], dict):
            raise MalformedRequest(f"{key} is not an object")


def _check_view(document: dict[str, Any], kind: str) -> None:
    view = document.get("view")
    if not isinstance(view, dict):
        raise MalformedRequest(f"a {kind} payload has no view")
    for key in ("type", "callback_id"):
        if not isinstance(view.get(key), str):
            raise MalformedRequest(f"the view of a {kind} payload has no {key}")


def _check_actions(document: dict[str, Any]) -> None:
    actions = document.get("actions")
    if not actions:
        raise MalformedRequest("a block_actions payload has no actions")
    for n, action in enumerate(actions):
        if not isinstance(action.get("action_id"), str):
            raise MalformedRequest(f"action {n} has no action_id")


def _check_kinds(document: dict[str, Any]) -> None:
    for key in OBJECT_KEYS:
        value = document.get(key)
        if value is not None and not isinstance(value, dict):
            raise MalformedRequest(f"{key} is not an object")
    if "event" in document and not isinstance(document["event"], dict):
        raise MalformedRequest("event is not an object")
    for key in LIST_KEYS:
        if key not in document:  # Bolt tests presence, not value: a null counts as present
            continue
        value = document[key]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise MalformedRequest(f"{key} is not a list of objects")
    for key in STRING_KEYS:
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            raise MalformedRequest(f"{key} is not a string")
    for key in ID_OR_OBJECT_KEYS:
        value = document.get(key)
        if value is not None and not isinstance(value, str | dict):
            raise MalformedRequest(f"{key} is neither an id nor an object")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except RecursionError:
        raise MalformedRequest(f"{what} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise MalformedRequest(f"{what} is not valid JSON ({exc.msg} at {exc.pos})") from None
    except ValueError:  # e.g. an integer with more digits than Python will read
        raise MalformedRequest(f"{what} holds a value that cannot be read") from None
    if not isinstance(value, dict):
        raise MalformedRequest(f"{what} is not a JSON object")
    return value
