"""Reading and checking a request body: any bytes give a document or a MalformedRequest."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.envelope import MalformedRequest, check_envelope, parse_body
from tests.bot.test_gate_fuzz import bodies
from tests.fuzzing import FUZZ

CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/x-www-form-urlencoded",
    "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8",
    "text/plain",
    "",
)


def read(body: bytes, content_type: str) -> None:
    try:
        check_envelope(parse_body(body, content_type))
    except MalformedRequest as exc:
        assert str(exc) and len(str(exc)) <= 200


@settings(max_examples=FUZZ.envelope, deadline=None, database=None)
@given(body=st.binary(max_size=300), content_type=st.sampled_from(CONTENT_TYPES))
def test_any_bytes_are_read_or_refused_as_malformed(body: bytes, content_type: str) -> None:
    read(body, content_type)


@settings(max_examples=FUZZ.envelope_shaped, deadline=None, database=None)
@given(body=bodies)
def test_any_slack_shaped_body_is_read_or_refused_as_malformed(body: tuple[str, str]) -> None:
    read(body[0].encode(), body[1])


def test_a_command_is_read_from_its_form_even_when_it_mentions_payload() -> None:
    body = urlencode({"command": "/sis-maint", "text": "start prod 2h payload", "user_id": "U1"})
    document = parse_body(body.encode(), "application/x-www-form-urlencoded")
    assert document["text"] == "start prod 2h payload" and document["command"] == "/sis-maint"


def test_an_interactive_payload_is_the_document() -> None:
    body = urlencode({"payload": '{"type": "block_actions", "user": {"id": "U1"}}'})
    assert parse_body(body.encode(), "application/x-www-form-urlencoded") == {
        "type": "block_actions",
        "user": {"id": "U1"},
    }


@pytest.mark.parametrize(
    "document",
    [
        {"type": "url_verification", "challenge": "c", "token": "t"},
        {"ssl_check": "1", "token": "t"},
        {"type": "event_callback", "team_id": "T1", "event": {"type": "app_home_opened"}},
        {"type": "event_callback", "event": {"type": "message", "user": "U1", "channel": "C1"}},
        {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "a"}]},
        {
            "type": "view_closed",
            "user": {"id": "U1"},
            "view": {"type": "modal", "callback_id": "c"},
        },
    ],
)
def test_what_slack_sends_passes(document: dict[str, object]) -> None:
    check_envelope(document)


@pytest.mark.parametrize("key", ["response_urls", "actions", "authorizations"])
def test_a_list_key_sent_as_null_is_refused(key: str) -> None:
    # Bolt tests these keys for presence and then takes their length.
    with pytest.raises(MalformedRequest, match=f"{key} is not a list of objects"):
        check_envelope({"type": "app_home_opened", key: None})
