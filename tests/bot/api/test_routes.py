"""The HTTP API under /api/v1: every route, every refusal, and what each leaves in the ledger
and in Slack. Every answer is checked against the OpenAPI document (tests/bot/api/client.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import ValidationError
from sqlalchemy import func, select, update

from bot.config import Settings, parse_settings
from bot.slack import ids
from coursedog.wire import in_progress_item
from storage.models import AuditEvent, DueAction, ReplayKey, SlackNotice, Window
from tests.bot.api.client import TOKENS, Api, api_bot, api_settings_document, token
from tests.harness import APPROVALS, APPROVER

LEDGER = (Window, AuditEvent, DueAction, SlackNotice)


@pytest.fixture
def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    with api_bot(database_url, monkeypatch) as running:
        yield running


def rows(api: Api) -> dict[str, int]:
    """How many rows each table a request writes holds."""
    with api.bot.runtime.sessions() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in LEDGER
        }


def events(api: Api, window_id: int) -> list[tuple[str, str, str]]:
    """The window's audit trail: (actor, action, detail)."""
    with api.bot.runtime.sessions() as session:
        found = session.scalars(
            select(AuditEvent).where(AuditEvent.window_id == window_id).order_by(AuditEvent.id)
        )
        return [(e.actor, e.action, e.detail) for e in found]


def error(response: Any) -> tuple[int, str, str | None]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["field"]


def later(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def test_the_document_is_served_without_a_token_and_is_openapi_3_1(api: Api) -> None:
    response = api.call("GET", "/openapi.json", as_=None)
    assert response.status_code == 200
    assert response.json()["openapi"] == "3.1.0"
    assert error(api.call("POST", "/openapi.json", as_=None)) == (405, "method_not_allowed", None)


def test_the_check_against_the_document_can_fail(api: Api) -> None:
    """A body that does not fit the document is caught: the checks above are not vacuous."""
    window = api.call("POST", "/windows", json={"environments": ["prod"], "duration": "1h"})
    wrong = {**window.json(), "state": "pondering"}
    with pytest.raises(ValidationError):
        api.validate({"$ref": "#/components/schemas/Window"}, wrong)
    with pytest.raises(ValidationError):
        api.validate({"$ref": "#/components/schemas/Error"}, {"error": {"code": "invalid"}})


def test_no_token_an_unknown_one_or_another_scheme_is_refused_401(api: Api) -> None:
    before = rows(api)
    plain = api.call("GET", "/windows", as_=None)
    assert error(plain) == (401, "unauthorized", None)
    assert plain.headers["www-authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer not-a-token-anyone-has-0123"}
    assert error(api.call("POST", "/windows", as_=None, headers=wrong, json={}))[0] == 401
    basic = {"Authorization": f"Basic {token('snow')}"}
    assert error(api.call("GET", "/windows", as_=None, headers=basic))[0] == 401
    assert rows(api) == before


def test_each_route_needs_its_role(api: Api) -> None:
    body = {"environments": ["prod"], "duration": "2h", "reason": "patch"}
    assert error(api.call("POST", "/windows", as_="reader", json=body)) == (403, "forbidden", None)
    ticket = {**body, "ticket": "CHG1", "approval": "ticket"}
    refused = api.call("POST", "/windows", as_="snow", json=ticket)
    assert error(refused)[:2] == (403, "forbidden")
    assert "approve-for-tickets" in refused.json()["error"]["message"]
    assert error(api.call("POST", "/windows", as_="cab", json=body))[:2] == (403, "forbidden")
    assert error(api.call("POST", "/windows/1/end", as_="reader"))[:2] == (403, "forbidden")
    assert rows(api)["windows"] == 0


def test_environments_are_listed_with_aliases_zones_and_limits(api: Api) -> None:
    listed = api.call("GET", "/environments", as_="reader").json()["environments"]
    prod = next(e for e in listed if e["name"] == "prod")
    assert prod["aliases"] == ["production"]
    assert prod["max_duration_seconds"] == 2 * 86400
    assert {e["name"] for e in listed} == {"prod", "staging", "sandbox"}
    assert api.call("GET", "/environments", as_="reader").json()["groups"] == {}


def test_a_request_gets_its_card_needs_an_approver_and_is_extended_and_ended(api: Api) -> None:
    bot = api.bot
    created = api.call(
        "POST",
        "/windows",
        json={"environments": ["production"], "duration": "2h", "reason": "Banner patch"},
    )
    assert created.status_code == 201
    window = created.json()
    assert window["state"] == "requested"
    assert window["requested_by"] == "api:snow"
    assert window["environments"] == [{"name": "prod", "status": "pending"}]
    assert window["card_posted"] is True
    card = bot.card(window["id"])
    assert card.channel == APPROVALS
    assert "API token `snow`" in str(card.blocks)
    assert ids.APPROVE in str(card.blocks)  # an approver decides in Slack, as for any request
    assert events(api, window["id"]) == [("api:snow", "requested", "Banner patch")]

    bot.click(APPROVER, ids.APPROVE, str(window["id"]))
    assert bot.settle()
    got = api.call("GET", f"/windows/{window['id']}", as_="reader").json()
    assert got["state"] == "active"
    assert got["decided_by"] == APPROVER

    extended = api.call("POST", f"/windows/{window['id']}/extend", json={"by": "1h"})
    assert extended.status_code == 200
    moved = datetime.fromisoformat(extended.json()["ends_at"]) - datetime.fromisoformat(
        got["ends_at"]
    )
    assert moved == timedelta(hours=1)
    ended = api.call("POST", f"/windows/{window['id']}/end")
    assert ended.status_code == 200
    assert ended.json()["state"] == "ended"
    assert ended.json()["ended_by"] == "api:snow"
    assert bot.settle()
    thread = bot.thread(window["id"])
    assert any("extended" in t and "API token `snow`" in t for t in thread)
    assert any("ended by API token `snow`" in t for t in thread)
    actions = [(actor, action) for actor, action, _ in events(api, window["id"])]
    assert ("api:snow", "extended") in actions
    assert ("api:snow", "ended") in actions


def test_a_scheduled_request_is_listed_and_cancelled(api: Api) -> None:
    start = later(24)
    created = api.call(
        "POST",
        "/windows",
        json={"environments": ["staging"], "start": start, "end": later(26), "reason": "x"},
    )
    assert created.status_code == 201
    number = created.json()["id"]
    assert datetime.fromisoformat(created.json()["starts_at"]) == datetime.fromisoformat(start)
    upcoming = api.call("GET", "/windows", as_="reader", params={"state": "upcoming"}).json()
    assert [w["id"] for w in upcoming["windows"]] == [number]
    assert api.call("GET", "/windows", as_="reader", params={"state": "active"}).json() == {
        "windows": []
    }
    cancelled = api.call("POST", f"/windows/{number}/cancel", json={})
    assert cancelled.json()["state"] == "cancelled"
    again = api.call("POST", f"/windows/{number}/cancel")
    assert error(again) == (409, "conflict", None)
    recent = api.call("GET", "/windows", as_="reader", params={"state": "recent", "limit": "5"})
    assert [w["state"] for w in recent.json()["windows"]] == ["cancelled"]


def test_a_change_ticket_approves_a_window_and_is_recorded_as_the_approval(api: Api) -> None:
    bot = api.bot
    bot.sim.set_school("state_u_sandbox", {"nightly": True, "realtime": True})
    body = {
        "environments": ["sandbox"],
        "duration": "1h",
        "reason": "CAB-approved upgrade",
        "ticket": "CHG0012345",
        "approval": "ticket",
    }
    created = api.call("POST", "/windows", as_="cab", json=body)
    assert created.status_code == 201
    window = created.json()
    assert window["state"] == "active"
    assert window["decided_by"] == "api:cab"
    assert window["ticket"] == "CHG0012345"
    card = bot.card(window["id"])
    shown = str(card.blocks)
    assert "CHG0012345" in shown
    assert "Approved by change ticket CHG0012345" in shown
    assert ids.APPROVE not in shown  # nobody needs to approve it in Slack
    assert bot.settle()
    assert any("Approved by API token `cab`" in t for t in bot.thread(window["id"]))
    assert ("api:cab", "approved", "change ticket CHG0012345") in events(api, window["id"])
    # The reconciler switched the environment off, as after any approval.
    sandbox = bot.sim.school("state_u_sandbox")
    assert (sandbox.nightly, sandbox.realtime) == (False, False)
    assert api.call("GET", f"/windows/{window['id']}", as_="cab").json()["environments"] == [
        {"name": "sandbox", "status": "off"}
    ]


def test_a_ticket_approved_start_names_a_running_merge_before_the_switch_off(api: Api) -> None:
    bot = api.bot
    bot.sim.add_merge_item("state_u_prod", in_progress_item("job-5", "manual"))
    body = {
        "environments": ["prod"],
        "duration": "1h",
        "reason": "CAB-approved upgrade",
        "ticket": "CHG0012346",
        "approval": "ticket",
    }
    created = api.call("POST", "/windows", as_="cab", json=body)
    assert created.status_code == 201
    window_id = created.json()["id"]
    assert bot.settle()
    assert bot.sim.school("state_u_prod").writes == 1  # switched anyway
    thread = bot.thread(window_id)
    said = next(i for i, t in enumerate(thread) if "still running" in t)
    switched = next(i for i, t in enumerate(thread) if "switched off and verified" in t)
    assert said < switched
    assert thread[said].startswith("Approved by API token `cab`")  # one message with it
    assert "(change ticket CHG0012346)" in thread[said]
    assert "`prod`: a manual merge (job `merge-job-5`, RUNNING)" in thread[said]
    with bot.runtime.sessions() as session:
        kinds = session.scalars(select(DueAction.kind)).all()
    assert "watch_running_merge" in kinds


def test_a_ticket_approval_without_a_ticket_writes_nothing(api: Api) -> None:
    before = rows(api)
    body = {"environments": ["prod"], "duration": "1h", "approval": "ticket"}
    assert error(api.call("POST", "/windows", as_="cab", json=body)) == (422, "invalid", "ticket")
    assert rows(api) == before


def two_on_prod(url: str) -> Settings:
    """The API's configuration, prod needing two approvers (a two-person rule)."""
    doc = api_settings_document(url)
    doc["environments"]["prod"]["approvals_required"] = 2
    return parse_settings(doc)


def test_a_change_ticket_cannot_approve_where_two_approvers_are_needed(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_bot(database_url, monkeypatch, settings_factory=two_on_prod) as api:
        before = rows(api)
        body = {
            "environments": ["sandbox", "prod"],
            "duration": "1h",
            "reason": "CAB-approved upgrade",
            "ticket": "CHG0012345",
            "approval": "ticket",
        }
        refused = api.call("POST", "/windows", as_="cab", json=body)
        assert error(refused) == (422, "invalid", "approval")
        assert refused.json()["error"]["message"] == (
            "prod needs 2 approvers in Slack; a change ticket approves only windows whose "
            "environments need one approver."
        )
        assert rows(api) == before
        # Where one approver suffices the ticket still approves.
        one = {**body, "environments": ["sandbox"]}
        assert api.call("POST", "/windows", as_="cab", json=one).json()["state"] == "active"


BAD_BODIES = [
    ({"environments": ["nowhere"], "duration": "2h"}, "environments"),
    ({"environments": [], "duration": "2h"}, "environments"),
    ({"duration": "2h"}, "environments"),
    ({"environments": ["prod"], "duration": "2 hours"}, "duration"),
    ({"environments": ["prod"], "duration": "3d"}, "duration"),
    ({"environments": ["prod"]}, "duration"),
    ({"environments": ["prod"], "end": "2030-01-01T00:00:00Z"}, "end"),
    ({"environments": ["prod"], "start": "2020-01-01T00:00:00Z", "duration": "1h"}, "start"),
    ({"environments": ["prod"], "start": "2030-01-01T00:00:00", "duration": "1h"}, "start"),
    ({"environments": ["prod"], "start": "soon", "duration": "1h"}, "start"),
    ({"environments": ["prod"], "start": "2099-01-01T00:00:00Z", "duration": "1h"}, "start"),
    (
        {"environments": ["prod"], "start": "2030-01-01T00:00:00Z", "duration": "1h", "end": "x"},
        "end",
    ),
    ({"environments": ["prod"], "duration": "1h", "reason": "a\u0000b"}, "reason"),
    ({"environments": ["prod"], "duration": "1h", "reason": "r" * 501}, "reason"),
    ({"environments": ["prod"], "duration": "1h", "ticket": ""}, "ticket"),
    ({"environments": ["prod"], "duration": "1h", "approval": "maybe"}, "approval"),
    ({"environments": ["prod"], "duration": "1h", "requester": "U1"}, "requester"),
    ({"environments": "prod", "duration": "1h"}, "environments"),
]


def test_every_unusable_field_is_named_and_nothing_is_written(api: Api) -> None:
    before = rows(api)
    for body, field in BAD_BODIES:
        response = api.call("POST", "/windows", json=body)
        assert error(response) == (422, "invalid", field), (body, response.text)
    start = later(24)
    both = {"environments": ["prod"], "start": start, "end": later(25), "duration": "1h"}
    assert error(api.call("POST", "/windows", json=both)) == (422, "invalid", "duration")
    assert rows(api) == before


def test_a_body_that_is_not_a_json_object_or_too_large_is_refused(api: Api) -> None:
    before = rows(api)
    json_type = {"Content-Type": "application/json"}
    not_json = api.call("POST", "/windows", content=b"{nope", headers=json_type)
    assert error(not_json) == (400, "bad_request", None)
    listed = api.call("POST", "/windows", content=b"[1, 2]", headers=json_type)
    assert error(listed) == (400, "bad_request", None)
    huge = api.call("POST", "/windows", content=b" " * (65 * 1024), headers=json_type)
    assert error(huge) == (413, "too_large", None)
    assert error(api.call("POST", "/windows"))[2] == "environments"  # an empty body: {}
    assert rows(api) == before


def test_unknown_windows_routes_and_methods(api: Api) -> None:
    assert error(api.call("GET", "/windows/999", as_="reader"))[:2] == (404, "not_found")
    assert error(api.call("POST", "/windows/999/end"))[:2] == (404, "not_found")
    assert error(api.call("POST", "/windows/999/extend", json={"by": "1h"}))[:2] == (
        404,
        "not_found",
    )
    assert error(api.call("GET", "/nothing/here", as_="reader"))[:2] == (404, "not_found")
    assert error(api.call("DELETE", "/windows"))[:2] == (405, "method_not_allowed")
    assert error(api.call("GET", "/windows/1/end"))[:2] == (405, "method_not_allowed")
    assert error(api.call("PUT", "/windows/1"))[:2] == (405, "method_not_allowed")
    assert error(api.call("POST", "/environments"))[:2] == (405, "method_not_allowed")


def test_list_parameters_are_checked(api: Api) -> None:
    for params, field in [
        ({"state": "soon"}, "state"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"colour": "red"}, "colour"),
    ]:
        response = api.call("GET", "/windows", as_="reader", params=params)
        assert error(response) == (422, "invalid", field)


def test_changes_are_refused_by_state_by_owner_and_by_body(api: Api) -> None:
    created = api.call("POST", "/windows", json={"environments": ["prod"], "duration": "2h"})
    number = created.json()["id"]
    ending = api.call("POST", f"/windows/{number}/end")
    assert error(ending)[:2] == (409, "conflict")  # requested, not started
    other = api.call("POST", f"/windows/{number}/cancel", as_="other")
    assert error(other)[:2] == (403, "forbidden")  # another token's window
    assert "Only the requester" in other.json()["error"]["message"]
    bad_by = api.call("POST", f"/windows/{number}/extend", json={"by": "forever"})
    assert error(bad_by) == (422, "invalid", "by")
    assert error(api.call("POST", f"/windows/{number}/extend"))[2] == "by"
    extra = api.call("POST", f"/windows/{number}/end", json={"now": True})
    assert error(extra) == (422, "invalid", "now")
    assert api.call("GET", f"/windows/{number}", as_="reader").json()["state"] == "requested"


def test_an_idempotency_key_makes_a_create_act_once(api: Api) -> None:
    body = {"environments": ["prod"], "duration": "2h", "reason": "once"}
    key = {"Idempotency-Key": "deploy-4711"}
    first = api.call("POST", "/windows", json=body, headers=key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # A script that lost the answer retries: the same answer, and nothing acts again.
    again = api.call("POST", "/windows", json=body, headers=key)
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    # The same key for another request is a mistake, and says so.
    other = api.call("POST", "/windows", json={**body, "reason": "twice"}, headers=key)
    assert error(other) == (422, "idempotency_key_reused", "Idempotency-Key")
    # Keys are the caller's own: another token's same key acts.
    assert api.call("POST", "/windows", as_="other", json=body, headers=key).status_code == 201
    bad = api.call("POST", "/windows", json=body, headers={"Idempotency-Key": "has space"})
    assert error(bad) == (400, "bad_request", "Idempotency-Key")
    assert rows(api)["windows"] == 2


def test_a_repeat_of_a_call_that_acted_then_was_refused_is_refused_alike(api: Api) -> None:
    created = api.call("POST", "/windows", json={"environments": ["prod"], "duration": "1h"})
    number = created.json()["id"]
    key = {"Idempotency-Key": "end-it"}
    ended = api.call("POST", f"/windows/{number}/cancel", json={}, headers=key)
    assert ended.status_code == 200
    again = api.call("POST", f"/windows/{number}/cancel", json={}, headers=key)
    assert (again.status_code, again.json()) == (200, ended.json())
    assert rows(api)["windows"] == 1


def test_a_repeat_whose_first_answer_was_never_kept_is_told_to_look(api: Api) -> None:
    key = {"Idempotency-Key": "lost"}
    body = {"environments": ["prod"], "duration": "1h"}
    assert api.call("POST", "/windows", json=body, headers=key).status_code == 201
    with api.bot.runtime.sessions.begin() as session:  # as if the bot stopped before answering
        session.execute(update(ReplayKey).values(answer=None))
    again = api.call("POST", "/windows", json=body, headers=key)
    assert error(again) == (409, "in_progress", "Idempotency-Key")
    assert "GET /api/v1/windows" in again.json()["error"]["message"]
    assert rows(api)["windows"] == 1


def test_a_refused_key_is_not_spent_by_a_refused_request(api: Api) -> None:
    key = {"Idempotency-Key": "retry-me"}
    bad = {"environments": ["prod"], "duration": "nope"}
    assert error(api.call("POST", "/windows", json=bad, headers=key))[0] == 422
    good = {"environments": ["prod"], "duration": "1h"}
    assert api.call("POST", "/windows", json=good, headers=key).status_code == 201


def test_a_card_slack_refuses_withdraws_the_request(api: Api) -> None:
    api.bot.slack.fail("chat.postMessage", "not_in_channel")
    response = api.call("POST", "/windows", json={"environments": ["prod"], "duration": "1h"})
    assert error(response) == (502, "card_not_posted", None)
    assert "not_in_channel" in response.json()["error"]["message"]
    recent = api.call("GET", "/windows", as_="reader", params={"state": "recent"}).json()
    assert [w["state"] for w in recent["windows"]] == ["cancelled"]


def test_tokens_never_reach_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        api.call("POST", "/windows", json={"environments": ["prod"], "duration": "1h"})
        api.call("GET", "/windows", as_="reader")
        api.call("GET", "/windows", as_=None, headers={"Authorization": "Bearer guessed-0123"})
        assert api.bot.settle()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "api POST /api/v1/windows by snow: 201" in logged
    for secret, _roles in TOKENS.values():
        assert secret not in logged
    assert "guessed-0123" not in logged
