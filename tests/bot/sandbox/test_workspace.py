"""The sandbox's Slack side against the real bot: what the page asks, what the bot is sent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.sandbox import workspace as workspace_module
from bot.sandbox.config import Person
from bot.sandbox.page import SandboxPage
from bot.sandbox.switches import SwitchBoard
from bot.sandbox.workspace import SandboxWorkspace
from bot.slack import ids
from tests.harness import (
    APPROVALS,
    APPROVER,
    OPS,
    REQUESTER,
    SIGNING_SECRET,
    STRANGER,
    Bot,
    running_bot,
)

PEOPLE = (
    Person(REQUESTER, "Riley Chen", "SIS administrator", False),
    Person(APPROVER, "Alex Morgan", "Registrar", True),
    Person(STRANGER, "Sam Okafor", "Developer", False),
)


@dataclass
class Page:
    """What the page's script does: JSON posts and state polls over HTTP."""

    bot: Bot
    ws: SandboxWorkspace
    http: httpx.Client

    def do(self, verb: str, **args: Any) -> httpx.Response:
        response = self.http.post(f"{self.ws.base_url}/sandbox/{verb}", json=args)
        assert self.bot.settle()
        return response

    def state(self, user: str) -> dict[str, Any]:
        return dict(
            self.http.get(f"{self.ws.base_url}/sandbox/state", params={"user": user}).json()
        )

    def card(self, user: str = APPROVER) -> dict[str, Any]:
        return next(
            m
            for m in self.state(user)["messages"]
            if m["channel"] == APPROVALS and not m["thread_ts"] and not m["ephemeral"]
        )

    def press_on_card(self, user: str, action_id: str) -> httpx.Response:
        card = self.card(user)
        for b, block in enumerate(card["blocks"]):
            for e, element in enumerate(block.get("elements", [])):
                if element.get("action_id") == action_id:
                    return self.do("press", user=user, where={"ts": card["ts"]}, block=b, element=e)
        raise AssertionError(f"no {action_id} button on the card")


def ephemerals(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in state["messages"] if m["ephemeral"]]


@pytest.fixture
def page(database_url: str) -> Iterator[Page]:
    ws = SandboxWorkspace(
        people=PEOPLE, channel_names=(APPROVALS, OPS), signing_secret=SIGNING_SECRET
    )
    with running_bot(database_url, slack=ws) as bot, httpx.Client(timeout=10) as http:
        ws.events_url = bot.url
        board = SwitchBoard(bot.runtime.settings)
        ws.pages = SandboxPage(ws, board.read)
        yield Page(bot, ws, http)
        board.close()


def test_a_command_is_answered_only_to_whoever_typed_it(page: Page) -> None:
    assert page.do("command", user=REQUESTER, channel=OPS, text="start prod 2h Banner patch").json()
    [answer] = ephemerals(page.state(REQUESTER))
    assert answer["channel"] == OPS and answer["from"] == "bot"
    assert answer["echo"] == "/sis-maint start prod 2h Banner patch"
    assert "*MW-1* requested" in answer["text"]
    assert ephemerals(page.state(APPROVER)) == []
    card = page.card()
    assert card["blocks"][0]["text"]["text"] == "MW-1: SIS maintenance window"


def test_text_typed_on_the_page_is_sent_as_slack_sends_it_and_kept_as_typed(page: Page) -> None:
    page.do("command", user=REQUESTER, channel=OPS, text="start prod 2h Banner <b>patch</b> & co")
    assert page.bot.runtime.windows.get(1).reason == "Banner <b>patch</b> & co"
    assert "Banner &lt;b&gt;patch&lt;/b&gt; &amp; co" in str(page.card()["blocks"])


def test_pressing_approve_sends_what_the_card_carries_and_switches_off(page: Page) -> None:
    page.do("command", user=REQUESTER, channel=OPS, text="start prod 2h")
    assert page.press_on_card(APPROVER, ids.APPROVE).json() == {"ok": True}
    prod = page.bot.sim.school("state_u_prod")
    assert (prod.nightly, prod.realtime) == (False, False)
    state = page.state(APPROVER)
    card = page.card()
    assert card["edited"] and "Approved by <@U0APPROVE1>" in str(card["blocks"])
    replies = [m["text"] for m in state["messages"] if m["thread_ts"] == card["ts"]]
    assert any("switched off and verified" in r for r in replies)
    switches = {s["environment"]: s for s in state["switches"]}
    assert (switches["prod"]["nightly"], switches["prod"]["realtime"]) == (False, False)
    assert switches["prod"]["writes"] == 1 and switches["staging"]["nightly"] is True


def test_the_requester_pressing_approve_is_told_why_not_through_response_url(page: Page) -> None:
    page.do("command", user=REQUESTER, channel=OPS, text="start prod 2h")
    page.press_on_card(REQUESTER, ids.APPROVE)
    refusals = [m for m in ephemerals(page.state(REQUESTER)) if m["channel"] == APPROVALS]
    assert len(refusals) == 1 and "approve" in refusals[0]["text"]
    assert ephemerals(page.state(APPROVER)) == []
    assert page.bot.sim.school("state_u_prod").writes == 0


def test_a_bare_command_opens_the_form_and_the_bots_field_errors_come_back(page: Page) -> None:
    page.do("command", user=REQUESTER, channel=OPS, text="")
    modal = page.state(REQUESTER)["modal"]
    assert modal["view"]["callback_id"] == ids.REQUEST_VIEW and modal["errors"] == {}
    assert page.state(APPROVER)["modal"] is None
    assert page.do("submit", user=REQUESTER, view_id=modal["id"], values={}).json()["ok"]
    errors = page.state(REQUESTER)["modal"]["errors"]
    assert set(errors) == {ids.B_ENVS, ids.B_LENGTH}
    values = {
        ids.B_ENVS: {
            ids.FIELD_ACTION: {
                "type": "multi_static_select",
                "selected_options": [{"value": "staging"}],
            }
        },
        ids.B_LENGTH: {ids.FIELD_ACTION: {"type": "plain_text_input", "value": "1h"}},
    }
    page.do("submit", user=REQUESTER, view_id=modal["id"], values=values)
    state = page.state(REQUESTER)
    assert state["modal"] is None
    assert "MW-1" in page.card()["text"]
    dm = [m for m in state["messages"] if m["channel"] == f"D{REQUESTER[1:]}"]
    assert any("*MW-1* requested" in m["text"] for m in dm)
    answer = page.do("submit", user=REQUESTER, view_id=modal["id"], values=values)
    assert answer.status_code == 400 and "no longer open" in answer.json()["error"]


def test_choosing_the_forms_start_redraws_it_with_that_starts_fields(page: Page) -> None:
    page.do("command", user=REQUESTER, channel=OPS, text="")
    modal = page.state(REQUESTER)["modal"]
    assert ids.B_START not in {b["block_id"] for b in modal["view"]["blocks"]}
    chosen = {ids.B_WHEN: {ids.FIELD_ACTION: {"selected_option": {"value": ids.WHEN_AT}}}}
    form = {"user": REQUESTER, "view_id": modal["id"]}
    answer = page.do("choose", **form, block_id=ids.B_WHEN, values=chosen)
    assert answer.json() == {"ok": True}
    redrawn = page.state(REQUESTER)["modal"]
    assert redrawn["id"] == modal["id"] and redrawn["errors"] == {}
    start = next(b for b in redrawn["view"]["blocks"] if b["block_id"] == ids.B_START)
    assert start["optional"] is False
    refused = page.do("choose", **form, block_id=ids.B_LENGTH, values={})
    assert refused.status_code == 400 and "answers at once" in refused.json()["error"]


def test_cancel_closes_the_form(page: Page) -> None:
    page.do("command", user=REQUESTER, channel=OPS, text="")
    modal = page.state(REQUESTER)["modal"]
    assert page.do("close", user=REQUESTER, view_id=modal["id"]).json() == {"ok": True}
    assert page.state(REQUESTER)["modal"] is None


def test_opening_the_home_tab_shows_what_the_bot_publishes(page: Page) -> None:
    assert page.state(APPROVER)["home"] is None
    page.do("home", user=APPROVER)
    home = page.state(APPROVER)["home"]
    assert home["type"] == "home" and home["blocks"]
    assert page.state(REQUESTER)["home"] is None


def test_new_request_on_the_home_tab_opens_the_form_on_the_page(page: Page) -> None:
    page.do("home", user=STRANGER)
    [new] = [b for b in page.state(STRANGER)["home"]["blocks"] if "accessory" in b]
    block = page.state(STRANGER)["home"]["blocks"].index(new)
    answer = page.do("press", user=STRANGER, where={"home": True}, block=block, element=None)
    assert answer.json() == {"ok": True}
    modal = page.state(STRANGER)["modal"]
    assert modal["view"]["callback_id"] == ids.REQUEST_VIEW


def test_a_wrong_signing_secret_is_refused_by_the_bot_and_said_so(page: Page) -> None:
    page.ws.signing_secret = "not-the-secret"
    page.do("command", user=REQUESTER, channel=OPS, text="help")
    [note] = ephemerals(page.state(REQUESTER))
    assert note["from"] == "slackbot" and "the bot answered HTTP 401" in note["text"]


def test_a_stranger_or_an_unknown_channel_is_refused(page: Page) -> None:
    answer = page.do("command", user="U0NOBODY", channel=OPS, text="help")
    assert answer.status_code == 400 and "nobody in this workspace" in answer.json()["error"]
    answer = page.do("command", user=REQUESTER, channel=f"D{APPROVER[1:]}", text="help")
    assert answer.status_code == 400 and "is not in channel" in answer.json()["error"]
    # Only a script on the page can post: a form from another site cannot.
    form = page.http.post(f"{page.ws.base_url}/sandbox/command", data={"user": REQUESTER})
    assert form.status_code == 415
    assert page.http.get(f"{page.ws.base_url}/elsewhere").status_code == 404
    assert page.state("U0NOBODY")["me"] == REQUESTER  # a first visit is the first person


def test_trigger_ids_are_used_once_and_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = SandboxWorkspace(people=PEOPLE)
    auth = f"Bearer {ws.token}"
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    trigger = ws._envelope("block_actions", REQUESTER)["trigger_id"]
    assert ws.handle("views.open", {"trigger_id": trigger, "view": view}, auth)[1]["ok"]
    assert ws.modals[REQUESTER].view["title"]["text"] == "T"
    again = ws.handle("views.open", {"trigger_id": trigger, "view": view}, auth)[1]
    assert again == {"ok": False, "error": "invalid_trigger_id"}
    monkeypatch.setattr(workspace_module, "TRIGGER_LIFETIME", -1.0)
    late = ws._envelope("block_actions", REQUESTER)["trigger_id"]
    answer = ws.handle("views.open", {"trigger_id": late, "view": view}, auth)[1]
    assert answer == {"ok": False, "error": "expired_trigger_id"}
