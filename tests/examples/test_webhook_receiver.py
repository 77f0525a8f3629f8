"""The example webhook receiver: it takes only genuine, fresh requests, handles each event id
once, and keeps Teams and a Statuspage maintenance in step (a local stand-in for both)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.webhooks import signed_headers
from examples.webhook_receiver import Receiver, State, Statuspage, Teams, from_environment
from tests.webhook_receivers import HOOK_SECRET, StandIn, stand_in

NOW = 1_800_000_000


def event(event_id: str, type: str, window_id: int = 1, **window: Any) -> bytes:
    document = {
        "id": event_id,
        "type": type,
        "environment": None,
        "window": {
            "id": window_id,
            "label": f"MW-{window_id}",
            "environments": ["prod"],
            "reason": "Banner patch",
            "starts_at": "2027-01-09T02:00:00Z",
            "ends_at": "2027-01-09T04:00:00Z",
            **window,
        },
    }
    return json.dumps(document).encode()


def sent(body: bytes, *, secret: str = HOOK_SECRET, at: int = NOW) -> dict[str, str]:
    """The headers the bot sends, with names in lower case as the receiver reads them."""
    event_id = json.loads(body)["id"]
    return {k.lower(): v for k, v in signed_headers(secret, event_id, at, body).items()}


@pytest.fixture
def forwarding(tmp_path: Path) -> Iterator[tuple[Receiver, StandIn]]:
    with stand_in() as (forwarded, url):
        forwarders: list[Teams | Statuspage] = [
            Teams(f"{url}/teams"),
            Statuspage("PAGE1", "statuspage-key", api_url=url),
        ]
        state = State(str(tmp_path / "receiver.db"))
        yield Receiver(HOOK_SECRET, state, forwarders, now=lambda: NOW), forwarded


def test_a_genuine_event_is_forwarded_once_however_often_it_comes(
    forwarding: tuple[Receiver, StandIn],
) -> None:
    receiver, forwarded = forwarding
    body = event("evt_1", "requested")
    assert receiver.handle(sent(body), body) == 204
    assert receiver.handle(sent(body, at=NOW - 60), body) == 204  # a retry: signed again
    assert [path for _, path, _ in forwarded.requests] == ["/teams"]
    card = forwarded.requests[0][2]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "MW-1 (prod): requested - Banner patch" in json.dumps(card)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"secret": "someone-else-0123456789abcdef"}, 401),
        ({"at": NOW - 301}, 401),
        ({"at": NOW + 301}, 401),
    ],
)
def test_a_forged_or_stale_request_is_refused(
    forwarding: tuple[Receiver, StandIn], headers: dict[str, Any], status: int
) -> None:
    receiver, forwarded = forwarding
    body = event("evt_1", "requested")
    given = sent(body, **headers) if headers else {}
    assert receiver.handle(given, body) == status
    assert forwarded.requests == []


def test_a_changed_body_or_a_mismatched_id_is_refused(
    forwarding: tuple[Receiver, StandIn],
) -> None:
    receiver, forwarded = forwarding
    body = event("evt_1", "requested")
    assert receiver.handle(sent(body), event("evt_1", "ended")) == 401
    other = sent(body) | {"x-sismaint-event-id": "evt_2"}
    assert receiver.handle(other, body) == 400
    garbage = b"not json"
    headers = signed_headers(HOOK_SECRET, "evt_3", NOW, garbage)
    assert receiver.handle({k.lower(): v for k, v in headers.items()}, garbage) == 400
    assert forwarded.requests == []


def test_a_failed_forward_answers_502_so_the_bot_tries_again(
    forwarding: tuple[Receiver, StandIn],
) -> None:
    receiver, forwarded = forwarding
    forwarded.fail = 1
    body = event("evt_1", "requested")
    assert receiver.handle(sent(body), body) == 502
    assert receiver.handle(sent(body), body) == 204
    assert [path for _, path, _ in forwarded.requests] == ["/teams"]


def test_statuspage_follows_a_window_from_active_to_ended(
    forwarding: tuple[Receiver, StandIn],
) -> None:
    receiver, forwarded = forwarding
    steps = [
        event("evt_1", "requested"),
        event("evt_2", "active"),
        event("evt_9", "active", window_id=2),
        event("evt_3", "extended", ends_at="2027-01-09T05:00:00Z"),
        event("evt_4", "ended"),
    ]
    for body in steps:
        assert receiver.handle(sent(body), body) == 204
    pages = [(m, p, b["incident"]) for m, p, b in forwarded.requests if p != "/teams"]
    assert [(m, p) for m, p, _ in pages] == [
        ("POST", "/v1/pages/PAGE1/incidents"),
        ("POST", "/v1/pages/PAGE1/incidents"),
        ("PATCH", "/v1/pages/PAGE1/incidents/inc1"),
        ("PATCH", "/v1/pages/PAGE1/incidents/inc1"),
    ]
    opened = pages[0][2]
    assert opened["status"] == "in_progress" and opened["name"] == "SIS maintenance MW-1"
    assert opened["scheduled_until"] == "2027-01-09T04:00:00Z"
    assert pages[2][2]["scheduled_until"] == "2027-01-09T05:00:00Z"
    assert pages[3][2]["status"] == "completed"


def test_it_remembers_what_it_handled_across_a_restart(tmp_path: Path) -> None:
    with stand_in() as (forwarded, url):
        body = event("evt_1", "requested")
        for _ in range(2):  # two runs of the receiver on one state file
            state = State(str(tmp_path / "receiver.db"))
            receiver = Receiver(HOOK_SECRET, state, [Teams(f"{url}/teams")], now=lambda: NOW)
            assert receiver.handle(sent(body), body) == 204
        assert len(forwarded.requests) == 1


def test_the_environment_chooses_where_to_forward(tmp_path: Path) -> None:
    state = State(str(tmp_path / "receiver.db"))
    env = {
        "SIS_MAINT_WEBHOOK_SECRET": HOOK_SECRET,
        "TEAMS_WEBHOOK_URL": "http://127.0.0.1:9/teams",
        "STATUSPAGE_PAGE_ID": "PAGE1",
        "STATUSPAGE_API_KEY": "key",
    }
    receiver = from_environment(state, env)
    assert [type(f).__name__ for f in receiver.forwarders] == ["Teams", "Statuspage"]
    assert receiver.now() == pytest.approx(time.time(), abs=5)
    bare = from_environment(state, {"SIS_MAINT_WEBHOOK_SECRET": HOOK_SECRET})
    assert bare.forwarders == []


def test_the_verifier_in_the_docs_takes_the_bots_requests_and_refuses_others() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)
    handle = namespace["handle"]
    body = event("evt_1", "requested")
    fresh = int(time.time())
    seen: set[str] = set()
    assert handle(HOOK_SECRET, sent(body, at=fresh), body, seen) == 204
    assert seen == {"evt_1"}
    assert handle(HOOK_SECRET, sent(body, at=fresh), body, seen) == 204  # a retry
    assert handle("another-secret-0123456789abcd", sent(body, at=fresh), body, set()) == 401
    assert handle(HOOK_SECRET, sent(body, at=fresh - 301), body, set()) == 401
    assert handle(HOOK_SECRET, {}, body, set()) == 401
