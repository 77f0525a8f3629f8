"""The sandbox's web page: its static files, the state it polls, and what it asks the workspace.

GET / and /static/* serve the page (plain HTML, CSS and JavaScript shipped in static/);
GET /sandbox/state?user=U… is what that person sees; POST /sandbox/<verb> with a JSON body
types a command, presses a button, changes a modal's choice, submits or closes a modal, or opens
the App Home.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.slack_api import Message, PageReply
from bot.sandbox.slack_requests import SandboxError
from bot.sandbox.workspace import SandboxWorkspace

STATIC = {
    "/": "index.html",
    "/static/app.js": "app.js",
    "/static/blockkit.js": "blockkit.js",
    "/static/modal.js": "modal.js",
    "/static/style.css": "style.css",
}
TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
}
JSON_TYPE = "application/json; charset=utf-8"


def _reply(status: int, body: dict[str, Any]) -> PageReply:
    return status, JSON_TYPE, json.dumps(body).encode()


class SandboxPage:
    """Routes the page's requests; an instance is the workspace's ``pages``."""

    def __init__(
        self, workspace: SandboxWorkspace, switches: Callable[[], list[dict[str, Any]]]
    ) -> None:
        self._ws = workspace
        self._switches = switches

    def __call__(self, method: str, path: str, body: bytes) -> PageReply | None:
        """Answer one request, or None for a path the page does not have."""
        url = urlsplit(path)
        # A link to a message (chat.getPermalink's, in a direct message) opens the page.
        shown = "/" if url.path.startswith("/archives/") else url.path
        if method == "GET" and shown in STATIC:
            name = STATIC[shown]
            data = resources.files("bot.sandbox").joinpath("static", name).read_bytes()
            return 200, TYPES[name.rsplit(".", 1)[-1]], data
        try:
            if method == "GET" and url.path == "/sandbox/state":
                user = (parse_qs(url.query).get("user") or [""])[0]
                return _reply(200, self.state(user))
            if method == "POST" and url.path.startswith("/sandbox/"):
                args = json.loads(body or b"{}")
                if not isinstance(args, dict):
                    raise SandboxError("expected a JSON object")
                return self._act(url.path.removeprefix("/sandbox/"), args)
        except SandboxError as exc:
            return _reply(400, {"ok": False, "error": str(exc)})
        except (ValueError, TypeError, KeyError) as exc:
            return _reply(400, {"ok": False, "error": f"malformed request ({exc})"})
        return None

    def _act(self, verb: str, args: dict[str, Any]) -> PageReply | None:
        ws, user = self._ws, str(args.get("user", ""))
        match verb:
            case "command":
                ws.command(user, str(args["channel"]), str(args.get("text", "")).strip())
            case "press":
                element = args.get("element")
                ws.press(
                    user,
                    dict(args["where"]),
                    int(args["block"]),
                    None if element is None else int(element),
                )
            case "submit":
                ws.submit(user, str(args["view_id"]), dict(args["values"]))
            case "choose":
                ws.choose(user, str(args["view_id"]), str(args["block_id"]), dict(args["values"]))
            case "close":
                ws.close(user, str(args["view_id"]))
            case "home":
                ws.open_home(user)
            case _:
                return None
        return _reply(200, {"ok": True})

    def state(self, user: str) -> dict[str, Any]:
        """Everything ``user`` sees, newest last, and the simulator's switches.

        An unknown or missing ``user`` is the first person (a page opened for the first time).
        """
        ws = self._ws
        if all(p.id != user for p in ws.people):
            user = ws.people[0].id
        seen = ws.seen_by(user)
        modal = seen.modal
        opened = {"id": modal.id, "view": modal.view, "errors": modal.errors} if modal else None
        return {
            "me": user,
            "bot": {"id": ws.bot_user, "name": "sis-maint"},
            "people": [
                {"id": p.id, "name": p.name, "title": p.title, "approver": p.approver}
                for p in ws.people
            ],
            "channels": seen.channels,
            "messages": [self._message(m) for m in seen.messages],
            "modal": opened,
            "home": seen.home,
            "switches": self._switches(),
        }

    def _message(self, message: Message) -> dict[str, Any]:
        return {
            "ts": message.ts,
            "channel": message.channel,
            "text": message.text,
            "blocks": message.blocks,
            "thread_ts": message.thread_ts,
            "edited": message.edits > 0,
            "ephemeral": message.user is not None,
            "from": "slackbot" if message.ts in self._ws.slackbot_notes else "bot",
            "echo": self._ws.echoes.get(message.ts, ""),
        }
