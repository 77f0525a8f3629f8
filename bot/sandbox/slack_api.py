"""A local stand-in for Slack's Web API: records every call and answers like Slack.

It serves ``POST /api/<method>`` (form or JSON bodies, bearer token checked), keeps the
messages it was sent so that updates and threads can be inspected, and accepts posts to
``/respond/<id>`` as a ``response_url``. Faults: ``ratelimited`` (HTTP 429 + Retry-After) and
any Slack error code, for a number of calls. ``pages`` serves other paths (the sandbox's web
page is served this way).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    """One request the stand-in received."""

    method: str
    args: dict[str, Any]


@dataclass
class Message:
    """A message as the stand-in keeps it."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    edits: int = 0
    user: str | None = None  # who sees an ephemeral message


# What a page route answers: HTTP status, content type, body.
PageReply = tuple[int, str, bytes]
PageRoutes = Callable[[str, str, bytes], PageReply | None]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
# Numbers the messages of every stand-in in the process: as in Slack, no two share a ts, even
# when a restarted bot's stand-in posts in the same second as the one before it.
_MESSAGES = itertools.count(1)
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@dataclass
class _Fault:
    method: str
    error: str
    times: int
    retry_after: int = 1


@dataclass
class SlackStandIn:
    """The stand-in's state; start() serves it over HTTP on a free port."""

    token: str = "xoxb-test-token"  # noqa: S105 - the token this stand-in accepts
    bot_user: str = "U0BOT0000"
    team: str = "T0TEAM000"
    missing_channels: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, Message] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    views: list[dict[str, Any]] = field(default_factory=list)
    home: dict[str, dict[str, Any]] = field(default_factory=dict)
    # users.info: user id -> real name (anyone else is "user_not_found").
    names: dict[str, str] = field(default_factory=dict)
    ephemerals: list[Message] = field(default_factory=list)
    # Answers (method, path, body) for paths outside /api/ and /respond/; None means 404.
    pages: PageRoutes | None = None

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._faults: list[_Fault] = []
        self._open = threading.Event()  # cleared by hold(): Web API calls wait, as if Slack hung
        self._open.set()
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; returns the Web API base URL (ends with /api/)."""
        stand_in = self

        class Handler(_Handler):
            owner = stand_in

        self._server = _Server((host, port), Handler)
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},  # how quickly stop() returns (default: 0.5 s)
            name="slack-stand-in",
            daemon=True,
        ).start()
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        return self.base_url + "/api/"

    def stop(self) -> None:
        """Stop serving."""
        self._open.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def new_ts(self) -> str:
        """A fresh message timestamp; the part after the dot grows with every message of the
        process, so two stand-ins (a restart, a second bot) never hand out the same one."""
        return f"{int(time.time())}.{next(_MESSAGES):06d}"

    def response_url(self, name: str) -> str:
        """A response_url that records what the app posts to it."""
        return f"{self.base_url}/respond/{name}"

    # -- knobs and inspection --------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``error`` (``ratelimited`` -> 429)."""
        with self._cond:
            self._faults.append(_Fault(method, error, times, retry_after))

    def hold(self) -> None:
        """Keep Web API calls and response_url posts unanswered until release() (Slack hangs)."""
        self._open.clear()

    def release(self) -> None:
        """Answer the held calls and those that follow."""
        self._open.set()

    def wait_open(self) -> None:
        """Block while Web API calls are held."""
        self._open.wait()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Block until ``predicate()`` holds (checked after each call), or time out."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def calls_to(self, method: str) -> list[Call]:
        """The calls of one Web API method, oldest first."""
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """Replies in a thread, oldest first."""
        with self._cond:
            return [m for m in self.messages.values() if m.channel == channel and m.thread_ts == ts]

    def direct_messages(self, user: str) -> list[Message]:
        """Messages posted to a user's direct-message channel."""
        with self._cond:
            return [m for m in self.messages.values() if m.channel == f"D{user[1:]}"]

    # -- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, args: dict[str, Any], auth: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one Web API call: (HTTP status, JSON body, extra headers)."""
        with self._cond:
            self.calls.append(Call(method, args))
            try:
                return self._answer(method, args, auth)
            finally:
                self._cond.notify_all()

    def _answer(
        self, method: str, args: dict[str, Any], auth: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        for fault in self._faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                if fault.error == "ratelimited":
                    return (
                        429,
                        {"ok": False, "error": "ratelimited"},
                        {"Retry-After": str(fault.retry_after)},
                    )
                return 200, {"ok": False, "error": fault.error}, {}
        if auth != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "not_authed" if not auth else "invalid_auth"}, {}
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        body: dict[str, Any] = handler(args)
        return 200, body, {}

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user_id": self.bot_user, "team_id": self.team, "bot_id": "B0BOT0000"}

    def _channel(self, raw: str) -> str | None:
        name = raw.lstrip("#")
        if not name or name in self.missing_channels:
            return None
        if name[0] in "UW":
            return f"D{name[1:]}"
        return name if name[0] in "CGD" and name.isupper() else f"C{zlib.crc32(name.encode()):010d}"

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self.new_ts()
        blocks = _blocks(args.get("blocks"))
        thread_ts = args.get("thread_ts") or None
        if thread_ts and not any(m.ts == thread_ts for m in self.messages.values()):
            return {"ok": False, "error": "thread_not_found"}
        self.messages[ts] = Message(channel, ts, str(args.get("text", "")), blocks, thread_ts)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": args.get("text")}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(args.get("ts")))
        if message is None or message.channel != args.get("channel"):
            return {"ok": False, "error": "message_not_found"}
        message.text = str(args.get("text", message.text))
        message.blocks = _blocks(args.get("blocks")) or message.blocks
        message.edits += 1
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        """A link to a message, as Slack answers: the channel must exist and hold it."""
        channel = self._channel(str(args.get("channel", "")))
        ts = str(args.get("message_ts", ""))
        if not args.get("channel") or not ts:
            return {"ok": False, "error": "invalid_arguments"}
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        message = self.messages.get(ts)
        if message is None or message.channel != channel:
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": channel, "permalink": self.permalink(channel, ts)}

    def permalink(self, channel: str, ts: str) -> str:
        """Where chat.getPermalink says a message is (Slack's archives path)."""
        return f"{self.base_url}/archives/{channel}/p{ts.replace('.', '')}"

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        ts = self.new_ts()
        blocks = _blocks(args.get("blocks"))
        self.ephemerals.append(
            Message(channel, ts, str(args.get("text", "")), blocks, None, user=str(args["user"]))
        )
        return {"ok": True, "message_ts": ts}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = _json(args.get("view"))
        self.views.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.views):08d}", **view}}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """Redraw an open modal: the new view is kept as the newest in ``views``."""
        view_id = str(args.get("view_id", ""))
        if not view_id.startswith("V"):
            return {"ok": False, "error": "not_found"}
        view = _json(args.get("view"))
        self.views.append(view)
        return {"ok": True, "view": {"id": view_id, **view}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id", ""))
        if not user:
            return {"ok": False, "error": "invalid_arguments"}
        view = _json(args.get("view"))
        if view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        self.home[user] = view
        return {"ok": True, "view": {"id": f"VH{user}", **view}}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.groups.get(str(args.get("usergroup", "")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user", ""))
        name = self.names.get(user_id)
        if name is None:
            return {"ok": False, "error": "user_not_found"}
        handle = name.lower().replace(" ", ".")
        profile = {"real_name": name, "display_name": handle}
        return {"ok": True, "user": {"id": user_id, "name": handle, "profile": profile}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        return {"ok": True, "channel": {"id": f"D{users.split(',', maxsplit=1)[0][1:]}"}}

    def record_response(self, name: str, body: dict[str, Any]) -> None:
        """Keep a post made to a response_url."""
        with self._cond:
            self.responses.append({"name": name, **body})
            self._cond.notify_all()


def _json(raw: Any) -> dict[str, Any]:
    parsed = json.loads(raw) if isinstance(raw, str) else raw
    return parsed if isinstance(parsed, dict) else {}


def _blocks(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, str):
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, list) else []
    return list(raw) if isinstance(raw, list) else []


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections under concurrent calls, and each
    # dropped SYN costs the caller a one-second retransmission.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    owner: SlackStandIn

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def do_GET(self) -> None:
        """Only pages (when the owner serves any)."""
        self._page("GET", b"")

    def _page(self, method: str, body: bytes) -> None:
        host = self.headers.get("Host", "").rsplit(":", 1)[0]
        if self.owner.pages is not None and host not in LOCAL_HOSTS:
            # A page reached under another name is a site rebinding its name to this machine.
            self._send(403, {"ok": False, "error": "only served as 127.0.0.1 or localhost"}, {})
            return
        reply = self.owner.pages(method, self.path, body) if self.owner.pages else None
        if reply is None:
            self._send(404, {"ok": False, "error": "not_found"}, {})
            return
        status, content_type, data = reply
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        # Pages load nothing from anywhere else: no CDN, no inline script.
        self.send_header("Content-Security-Policy", PAGE_POLICY)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        """Web API calls, response_url posts, and pages."""
        length = int(self.headers.get("Content-Length") or 0)
        if not self.path.startswith(("/api/", "/respond/")):
            posted = self.rfile.read(length)
            if (
                self.owner.pages is not None
                and self.headers.get_content_type() != "application/json"
            ):
                # Only a script on the page itself can send JSON here: another site's form cannot.
                self._send(415, {"ok": False, "error": "expected JSON"}, {})
                return
            self._page("POST", posted)
            return
        raw = self.rfile.read(length).decode()
        self.owner.wait_open()
        if self.headers.get_content_type() == "application/json":
            args = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
        if self.path.startswith("/respond/"):
            self.owner.record_response(self.path.removeprefix("/respond/"), args)
            self._send(200, {"ok": True}, {})
            return
        method = self.path.removeprefix("/api/").split("?")[0]
        status, body, headers = self.owner.handle(
            method, args, self.headers.get("Authorization", "")
        )
        self._send(status, body, headers)

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
