"""A receiver for sis-maint's signed webhooks, standard library only: copy it and adapt it.

It checks each request's signature and freshness, handles each event id once (a SQLite file
remembers the ids handled, so a retry or a copy changes nothing), and forwards the event:

- to a Microsoft Teams incoming webhook (``TEAMS_WEBHOOK_URL``): one card per event;
- to Statuspage (``STATUSPAGE_PAGE_ID`` and ``STATUSPAGE_API_KEY``): a window that becomes
  active opens a maintenance in progress, an extension moves its end, the end completes it.

    SIS_MAINT_WEBHOOK_SECRET=... TEAMS_WEBHOOK_URL=https://... \\
        python3 examples/webhook_receiver.py --port 8080 --state receiver.db

It answers 204 once an event is handled (or was before), 401 to a request that is not
genuine or not fresh, 400 to one it cannot read, and 502 when forwarding failed, so that
sis-maint tries again later with the same event id.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FRESHNESS_SECONDS = 300
MAX_BODY = 1 << 20

Event = dict[str, Any]


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:{body}``, keyed with the secret."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def genuine(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> bool:
    """Whether the request was signed with ``secret`` less than five minutes ago
    (``headers``: names in lower case)."""
    stamp = headers.get("x-sismaint-request-timestamp", "")
    given = headers.get("x-sismaint-signature", "")
    if not stamp.isdecimal() or abs(now - int(stamp)) > FRESHNESS_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, stamp, body), given)


def post_json(url: str, document: Any, *, method: str = "POST", headers: Any = None) -> Any:
    """Send JSON; the answer's JSON (None when empty). Raises on a non-2xx answer."""
    request = urllib.request.Request(  # noqa: S310 - the URLs come from the operator
        url,
        data=json.dumps(document).encode(),
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        text = answer.read()
    return json.loads(text) if text.strip() else None


def summary(event: Event) -> str:
    """One line for people: ``MW-3 (prod): switched_off - Banner patch``."""
    window = event["window"]
    where = event.get("environment") or ", ".join(window["environments"])
    reason = f" - {window['reason']}" if window.get("reason") else ""
    return f"{window['label']} ({where}): {event['type']}{reason}"


class Teams:
    """Posts each event to a Teams incoming webhook as an Adaptive Card."""

    def __init__(self, url: str, post: Callable[..., Any] = post_json) -> None:
        self.url = url
        self.post = post

    def forward(self, event: Event, state: State) -> None:
        """One card per event."""
        card = {
            "type": "AdaptiveCard",
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": "1.4",
            "body": [
                {"type": "TextBlock", "weight": "Bolder", "text": "SIS maintenance"},
                {"type": "TextBlock", "wrap": True, "text": summary(event)},
            ],
        }
        attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        self.post(self.url, {"type": "message", "attachments": [attachment]})


class Statuspage:
    """Keeps a Statuspage maintenance in step with each window: in progress while it is
    active, moved when it is extended, completed when it ends."""

    def __init__(
        self,
        page_id: str,
        api_key: str,
        api_url: str = "https://api.statuspage.io",
        post: Callable[..., Any] = post_json,
    ) -> None:
        self.incidents = f"{api_url.rstrip('/')}/v1/pages/{page_id}/incidents"
        self.auth = {"Authorization": f"OAuth {api_key}"}
        self.post = post

    def forward(self, event: Event, state: State) -> None:
        """Open, move or complete the window's maintenance."""
        window = event["window"]
        incident = state.incident(window["id"])
        if event["type"] == "active" and incident is None:
            created = self.post(
                self.incidents,
                {
                    "incident": {
                        "name": f"SIS maintenance {window['label']}",
                        "status": "in_progress",
                        "scheduled_for": window["starts_at"],
                        "scheduled_until": window["ends_at"],
                        "body": summary(event),
                    }
                },
                headers=self.auth,
            )
            state.remember_incident(window["id"], created["id"])
        elif event["type"] == "extended" and incident is not None:
            change = {"scheduled_until": window["ends_at"], "body": summary(event)}
            self._update(incident, change)
        elif event["type"] == "ended" and incident is not None:
            self._update(incident, {"status": "completed", "body": summary(event)})

    def _update(self, incident: str, change: dict[str, Any]) -> None:
        url = f"{self.incidents}/{incident}"
        self.post(url, {"incident": change}, method="PATCH", headers=self.auth)


class State:
    """The event ids handled and each window's Statuspage maintenance, in a SQLite file."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS handled (event_id TEXT PRIMARY KEY)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS incidents (window_id INTEGER PRIMARY KEY, id TEXT)"
        )

    def handled(self, event_id: str) -> bool:
        """Whether this event id was handled before."""
        row = self._db.execute("SELECT 1 FROM handled WHERE event_id = ?", (event_id,))
        return row.fetchone() is not None

    def mark_handled(self, event_id: str) -> None:
        """Remember that this event id was handled."""
        self._db.execute("INSERT OR IGNORE INTO handled VALUES (?)", (event_id,))

    def incident(self, window_id: int) -> str | None:
        """The window's maintenance on Statuspage, if one was opened."""
        row = self._db.execute("SELECT id FROM incidents WHERE window_id = ?", (window_id,))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def remember_incident(self, window_id: int, incident: str) -> None:
        """Keep the maintenance opened for a window."""
        self._db.execute("INSERT OR REPLACE INTO incidents VALUES (?, ?)", (window_id, incident))


class Receiver:
    """Checks, de-duplicates and forwards one request at a time."""

    def __init__(
        self,
        secret: str,
        state: State,
        forwarders: list[Teams | Statuspage],
        now: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.state = state
        self.forwarders = forwarders
        self.now = now
        self._lock = threading.Lock()  # one event at a time: a copy waits, then is skipped

    def handle(self, headers: Mapping[str, str], body: bytes) -> int:
        """The HTTP status to answer (``headers``: names in lower case)."""
        if not genuine(self.secret, headers, body, self.now()):
            return 401
        try:
            event = json.loads(body)
            event_id = event["id"]
        except (ValueError, KeyError, TypeError):
            return 400
        if headers.get("x-sismaint-event-id") != event_id:
            return 400
        with self._lock:
            if self.state.handled(event_id):
                return 204
            try:
                for forwarder in self.forwarders:
                    forwarder.forward(event, self.state)
            except (OSError, ValueError, KeyError, TypeError):  # sis-maint retries it later
                return 502
            self.state.mark_handled(event_id)
        return 204


def serve(receiver: Receiver, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server that hands every POST to ``receiver`` (call serve_forever on it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.send_response(413)
                self.end_headers()
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = receiver.handle(headers, self.rfile.read(length))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet; log what matters in handle() instead

    return ThreadingHTTPServer((host, port), Handler)


def from_environment(state: State, env: Mapping[str, str]) -> Receiver:
    """A receiver forwarding where the environment says."""
    forwarders: list[Teams | Statuspage] = []
    if env.get("TEAMS_WEBHOOK_URL"):
        forwarders.append(Teams(env["TEAMS_WEBHOOK_URL"]))
    if env.get("STATUSPAGE_PAGE_ID") and env.get("STATUSPAGE_API_KEY"):
        api = env.get("STATUSPAGE_API_URL", "https://api.statuspage.io")
        forwarders.append(Statuspage(env["STATUSPAGE_PAGE_ID"], env["STATUSPAGE_API_KEY"], api))
    return Receiver(env["SIS_MAINT_WEBHOOK_SECRET"], state, forwarders)


def main() -> None:
    """Run the receiver until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--state", default="webhook-receiver.db")
    args = parser.parse_args()
    server = serve(from_environment(State(args.state), os.environ), args.host, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
