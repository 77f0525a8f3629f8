"""Bad requests to /slack/events over real HTTP: refused cleanly, logged, and nothing happens."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.sandbox.slack_requests import signed_headers
from bot.slack import ids
from bot.slack.gate import MAX_BODY_BYTES
from storage.models import Window
from tests.harness import REQUESTER, SIGNING_SECRET, Bot

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
GATE = "bot.slack.gate"


def interactive(payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


def submission(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": REQUESTER},
        "team": {"id": "T0TEAM000"},
        "view": view,
    }


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == GATE and r.levelno == logging.WARNING
    ]


def assert_nothing_happened(bot: Bot) -> None:
    assert bot.settle()
    assert bot.slack.calls_to("chat.postMessage") == [] and bot.slack.calls_to("views.open") == []
    with bot.runtime.sessions.begin() as s:
        assert s.scalar(select(func.count(Window.id))) == 0


MALFORMED = [
    ("truncated JSON", '{"type": "event_callback", "event": {', JSON, "not valid JSON"),
    ("JSON that is not an object", "[1, 2]", JSON, "not a JSON object"),
    ("an empty body", "", JSON, "not valid JSON"),
    ("a number too long to read", '{"n": ' + "9" * 5000 + "}", JSON, "cannot be read"),
    ("JSON nested too deeply", "[" * 100_000 + "]" * 100_000, JSON, "nested too deeply"),
    (
        "a truncated payload",
        urlencode({"payload": '{"type": "block_actions"'}),
        FORM,
        "payload field is not valid JSON",
    ),
    ("a payload that is not an object", urlencode({"payload": '"x"'}), FORM, "not a JSON object"),
    (
        "a view without a type",
        interactive(submission({"callback_id": ids.REQUEST_VIEW})),
        FORM,
        "view of a view_submission payload has no type",
    ),
    (
        "a view submission without a view",
        interactive({**submission({}), "view": None}),
        FORM,
        "has no view",
    ),
    (
        "a view submission from nobody",
        interactive({**submission({"type": "modal", "callback_id": "x"}), "user": "U1"}),
        FORM,
        "names no user",
    ),
    (
        "actions that are not a list",
        interactive({"type": "block_actions", "user": {"id": "U1"}, "actions": "x"}),
        FORM,
        "actions is not a list",
    ),
    (
        "no actions",
        interactive({"type": "block_actions", "user": {"id": "U1"}, "actions": []}),
        FORM,
        "has no actions",
    ),
    (
        "an action without an id",
        interactive({"type": "block_actions", "user": {"id": "U1"}, "actions": [{}]}),
        FORM,
        "has no action_id",
    ),
    (
        "an event that is not an object",
        json.dumps({"type": "event_callback", "event": "x"}),
        JSON,
        "event is not an object",
    ),
    (
        "an event without a type",
        json.dumps({"type": "event_callback", "event": {}}),
        JSON,
        "no event type",
    ),
    ("a type that is not a string", json.dumps({"type": 7}), JSON, "type is not a string"),
    (
        "a command without a user",
        urlencode({"command": ids.COMMAND, "text": "help", "trigger_id": "t"}),
        FORM,
        "has no user_id",
    ),
    (
        "too many form fields",
        urlencode({f"f{n}": "x" for n in range(101)}),
        FORM,
        "more than 100 fields",
    ),
    ("an unknown content type", "hello", "text/plain", "not one Slack sends"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "reason"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_request_is_refused_with_400_and_logged(
    bot: Bot, caplog: pytest.LogCaptureFixture, body: str, content_type: str, reason: str
) -> None:
    caplog.set_level(logging.WARNING)
    response = bot.post(body, content_type)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]
    assert any("with 400: malformed" in m and reason in m for m in refusals(caplog))
    assert_nothing_happened(bot)


def test_a_body_with_several_response_urls_gets_a_clean_answer(bot: Bot) -> None:
    # Bolt logs through a context it has not given a logger yet when it builds the request.
    body = json.dumps({"type": "url_verification", "response_urls": [{}, {}]})
    response = bot.post(body, JSON)
    assert response.status_code in (200, 404), response.text
    assert_nothing_happened(bot)


def test_a_body_that_is_not_utf8_is_refused(bot: Bot) -> None:
    # Slack signs text: no signature can be right for these bytes, so they are refused as such.
    headers = signed(b"{}", JSON)
    response = bot.http.post(bot.url, content=b"\xff\xfe{}", headers=headers)
    assert response.status_code == 400 and "not UTF-8" in response.json()["error"]


def test_a_body_that_is_not_utf8_without_a_fresh_timestamp_is_refused_with_401(bot: Bot) -> None:
    stale = signed(b"{}", JSON, ts=int(time.time()) - 6 * 60)
    for headers in ({"Content-Type": JSON}, stale):
        response = bot.http.post(bot.url, content=b"\xff\xfe{}", headers=headers)
        assert response.status_code == 401 and response.json() == {"error": "invalid request"}


def signed(
    body: bytes, content_type: str, *, secret: str = SIGNING_SECRET, ts: int | None = None
) -> dict[str, str]:
    return signed_headers(secret, body.decode(), content_type, timestamp=ts)


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 5 * MAX_BODY_BYTES])
def test_an_oversized_body_is_refused_with_413_before_it_is_parsed(
    bot: Bot, caplog: pytest.LogCaptureFixture, size: int
) -> None:
    caplog.set_level(logging.WARNING)
    text = "start prod 2h " + "x" * size
    body = urlencode(
        {"command": ids.COMMAND, "user_id": REQUESTER, "trigger_id": "t", "text": text}
    )
    response = bot.post(body, FORM)
    assert response.status_code == 413
    assert response.json() == {"error": f"request body over {MAX_BODY_BYTES} bytes"}
    assert any("with 413" in m and "over the limit" in m for m in refusals(caplog))
    assert_nothing_happened(bot)


def command_body(text: str) -> str:
    return urlencode(
        {
            "command": ids.COMMAND,
            "text": text,
            "user_id": REQUESTER,
            "team_id": "T0TEAM000",
            "api_app_id": "A0APP0000",
            "trigger_id": "trigger-1",
            "response_url": "http://127.0.0.1:9/respond",
        }
    )


@pytest.mark.parametrize(
    ("secret", "age", "logged"),
    [
        ("not-the-signing-secret", 0, "signature does not match"),
        (SIGNING_SECRET, 6 * 60, "away from now (a replay"),
        (SIGNING_SECRET, 24 * 3600, "away from now (a replay"),
        (SIGNING_SECRET, -6 * 60, "away from now"),
    ],
    ids=["forged", "replayed after six minutes", "replayed a day later", "from the future"],
)
def test_a_forged_or_replayed_signature_is_refused_with_401(
    bot: Bot, caplog: pytest.LogCaptureFixture, secret: str, age: int, logged: str
) -> None:
    caplog.set_level(logging.WARNING)
    response = bot.post(
        command_body("start prod 2h"), FORM, secret=secret, timestamp=int(time.time()) - age
    )
    assert response.status_code == 401 and response.json() == {"error": "invalid request"}
    assert any("with 401" in m and logged in m for m in refusals(caplog))
    assert_nothing_happened(bot)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Slack-Request-Timestamp": "1"},
        {"X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
        {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=00"},
    ],
)
def test_a_missing_or_unreadable_signature_is_refused_with_401(
    bot: Bot, headers: dict[str, str]
) -> None:
    response = bot.http.post(
        bot.url, content=command_body("start prod 2h"), headers={"Content-Type": FORM, **headers}
    )
    assert response.status_code == 401
    assert_nothing_happened(bot)


def test_a_signed_request_replayed_within_the_window_changes_nothing_twice(bot: Bot) -> None:
    body = command_body("help")
    headers = signed(body.encode(), FORM)
    first = bot.http.post(bot.url, content=body, headers=headers)
    again = bot.http.post(bot.url, content=body, headers=headers)
    assert first.status_code == again.status_code == 200


def test_a_command_whose_text_says_payload_is_understood(bot: Bot) -> None:
    """Bolt reads any form body containing the word ``payload`` as empty; the gate does not."""
    response = bot.command(REQUESTER, "start prod 2h payload migration")
    assert response.status_code == 200 and "MW-1" in response.json()["text"]


def test_other_methods_and_the_health_probe(bot: Bot) -> None:
    assert bot.http.get(bot.url).status_code == 405
    bot.tick()  # the health probe wants one scheduler pass
    health = bot.http.get(bot.url.replace("/slack/events", "/healthz"))
    assert health.status_code == 200 and health.json()["status"] == "ok"
