"""What the sandbox sends as Slack, checked by a bare recording server instead of the bot."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.config import Person
from bot.sandbox.page import STATIC, SandboxPage
from bot.sandbox.workspace import SandboxWorkspace
from tests.bot.sandbox.launch import free_port

SECRET = "sandbox-test-secret"
RILEY = "U0SBXRILEY"
ALEX = "U0SBXALEX"
CHANNEL = "C0OPS00000"


class Recorder(ThreadingHTTPServer):
    """A stand-in bot: checks Slack's signature, records the request, answers as told."""

    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer: dict[str, Any] = {}
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        ts = self.headers["X-Slack-Request-Timestamp"]
        signed = SignatureVerifier(SECRET).is_valid(raw, ts, self.headers["X-Slack-Signature"])
        fresh = abs(time.time() - int(ts)) < 60
        body = dict(parse_qsl(raw.decode()))
        if "payload" in body:
            body = json.loads(body["payload"])
        self.server.requests.append({"signed": signed and fresh, **body})
        data = json.dumps(self.server.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def ws(recorder: Recorder) -> Iterator[SandboxWorkspace]:
    people = (Person(RILEY, "Riley Chen", "", False), Person(ALEX, "Alex Morgan", "", True))
    workspace = SandboxWorkspace(
        people=people,
        channel_names=(CHANNEL,),
        signing_secret=SECRET,
        events_url=f"http://127.0.0.1:{recorder.server_address[1]}/slack/events",
    )
    workspace.pages = SandboxPage(workspace, list)
    workspace.start()
    yield workspace
    workspace.stop()


def _post_card(ws: SandboxWorkspace) -> str:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Card"}},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "go", "value": "7", "style": "primary"},
                {"type": "static_select", "action_id": "pick"},
            ],
        },
    ]
    args = {"channel": CHANNEL, "text": "card", "blocks": blocks}
    return str(ws.handle("chat.postMessage", args, f"Bearer {ws.token}")[1]["ts"])


def test_a_slash_command_is_signed_and_carries_a_response_url(
    ws: SandboxWorkspace, recorder: Recorder
) -> None:
    recorder.answer = {"response_type": "ephemeral", "text": "hello <@U0SBXALEX>"}
    ws.command(RILEY, CHANNEL, "status prod")
    [sent] = recorder.requests
    assert sent["signed"] and sent["command"] == "/sis-maint" and sent["text"] == "status prod"
    assert (sent["user_id"], sent["channel_id"]) == (RILEY, CHANNEL)
    assert sent["response_url"].startswith(ws.base_url + "/respond/")
    assert sent["trigger_id"]
    [answer] = ws.seen_by(RILEY).messages
    assert answer.text == "hello <@U0SBXALEX>" and ws.echoes[answer.ts] == "/sis-maint status prod"
    # Later posts to the response_url are answers to the same person, without the echo.
    httpx.post(sent["response_url"], json={"text": "more"})
    later = ws.seen_by(RILEY).messages[-1]
    assert later.text == "more" and later.user == RILEY and later.ts not in ws.echoes
    httpx.post(sent["response_url"], json={"text": "for all", "response_type": "in_channel"})
    assert ws.seen_by(ALEX).messages[-1].text == "for all"


def test_a_button_press_reads_the_action_from_the_posted_blocks(
    ws: SandboxWorkspace, recorder: Recorder
) -> None:
    ts = _post_card(ws)
    ws.press(ALEX, {"ts": ts}, 1, 0)
    [sent] = recorder.requests
    assert sent["signed"] and sent["type"] == "block_actions"
    assert sent["user"]["id"] == ALEX and sent["channel"]["id"] == CHANNEL
    assert sent["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    [action] = sent["actions"]
    assert (action["action_id"], action["value"], action["style"]) == ("go", "7", "primary")
    assert action["block_id"] == "sandbox-block-1"  # Slack names blocks that have no block_id
    assert sent["message"]["blocks"][0]["text"]["text"] == "Card"
    # replace_original rewrites the card in place; delete_original removes it.
    httpx.post(sent["response_url"], json={"replace_original": True, "text": "Done"})
    assert ws.messages[ts].text == "Done" and ws.messages[ts].blocks == []
    httpx.post(sent["response_url"], json={"delete_original": True})
    assert ts not in ws.messages


def test_only_buttons_that_exist_can_be_pressed(ws: SandboxWorkspace) -> None:
    ts = _post_card(ws)
    for block, element, error in [
        (1, 1, "only buttons can be pressed"),
        (1, 5, "that button is gone"),
        (9, 0, "that button is gone"),
    ]:
        answer = httpx.post(
            f"{ws.base_url}/sandbox/press",
            json={"user": ALEX, "where": {"ts": ts}, "block": block, "element": element},
        )
        assert answer.status_code == 400 and error in answer.json()["error"]


def test_a_bot_that_does_not_answer_becomes_a_note_from_slack(ws: SandboxWorkspace) -> None:
    ws.events_url = f"http://127.0.0.1:{free_port()}/slack/events"
    ws.command(RILEY, CHANNEL, "help")
    [note] = ws.seen_by(RILEY).messages
    assert note.ts in ws.slackbot_notes
    assert note.text.startswith("/sis-maint help failed: the bot at http://127.0.0.1:")
    assert "is not answering (ConnectError)" in note.text


def test_the_page_is_self_contained(ws: SandboxWorkspace) -> None:
    for path in STATIC:
        answer = httpx.get(ws.base_url + path)
        assert answer.status_code == 200, path
        assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
        assert "://" not in answer.text, f"{path} refers to another site"
    html = httpx.get(ws.base_url + "/").text
    for path in (p for p in STATIC if p != "/"):
        assert f'src="{path}"' in html or f'href="{path}"' in html


def test_a_link_to_a_message_opens_the_page(ws: SandboxWorkspace) -> None:
    link = ws.permalink("C0123456789", "1700000000.000001")
    assert link == ws.base_url + "/archives/C0123456789/p1700000000000001"
    assert httpx.get(link).text == httpx.get(ws.base_url + "/").text
    assert httpx.get(ws.base_url + "/nowhere").status_code == 404


def test_the_page_answers_only_under_a_local_name(ws: SandboxWorkspace) -> None:
    assert httpx.get(ws.base_url + "/").status_code == 200
    port = ws.base_url.rsplit(":", 1)[1]
    assert httpx.get(f"http://localhost:{port}/").status_code == 200
    rebound = httpx.get(ws.base_url + "/", headers={"Host": f"attacker.example:{port}"})
    assert rebound.status_code == 403
