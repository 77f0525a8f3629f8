"""What Slack sends and receives in the benchmarks: signed requests and a timed stand-in."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.sandbox import slack_requests
from bot.sandbox.slack_api import Message, SlackStandIn
from bot.slack import ids

SIGNING_SECRET = "bench-signing-secret-0123456789"  # noqa: S105 - the bench's own
APPROVALS = "C0APPROVALS"
OPS = "C0OPS00000"
REQUESTER = "U0REQUEST1"
APPROVER = "U0APPROVE1"
FORM = "application/x-www-form-urlencoded"


def signed_headers(body: str, content_type: str = FORM) -> dict[str, str]:
    """Headers Slack sends with ``body``, signed with the bench's secret."""
    return slack_requests.signed_headers(SIGNING_SECRET, body, content_type)


def command_body(text: str, n: int, response_url: str, user: str = REQUESTER) -> str:
    """The form Slack posts for ``/sis-maint <text>``."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": "T0TEAM000",
            "channel_id": OPS,
            "user_id": user,
            "command": ids.COMMAND,
            "text": text,
            "response_url": response_url,
            "trigger_id": f"trigger-{n}",
            "api_app_id": "A0APP0000",
        }
    )


def click_body(user: str, action_id: str, value: str, message: Message, response_url: str) -> str:
    """The form Slack posts when ``user`` presses a button on ``message``."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T0TEAM000"},
        "user": {"id": user},
        "api_app_id": "A0APP0000",
        "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel},
        "channel": {"id": message.channel},
        "message": {"ts": message.ts, "text": message.text},
        "response_url": response_url,
        "trigger_id": "trigger-click",
        "actions": [
            {
                "action_id": action_id,
                "block_id": ids.BLOCK_DECISION,
                "value": value,
                "type": "button",
                "action_ts": "1",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


@dataclass(frozen=True)
class Stamp:
    """When a message reached the stand-in (``time.perf_counter()``), and the message."""

    at: float
    channel: str
    text: str
    thread_ts: str | None


class TimedSlack(SlackStandIn):
    """The Slack stand-in, noting when each posted message arrived."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.posted: list[Stamp] = []
        self.card_count = 0
        self.latency = 0.0  # seconds added to every Web API call, as Slack's network would

    def handle(
        self, method: str, args: dict[str, Any], auth: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer as the stand-in does; remember the arrival time of each message."""
        if self.latency:
            time.sleep(self.latency)
        at = time.perf_counter()
        with self._cond:
            if method == "chat.postMessage":
                self.posted.append(
                    Stamp(
                        at,
                        str(args.get("channel", "")),
                        str(args.get("text", "")),
                        args.get("thread_ts") or None,
                    )
                )
                if args.get("channel") == APPROVALS and not args.get("thread_ts"):
                    self.card_count += 1
            return super().handle(method, args, auth)

    def wait_cards(self, count: int, timeout: float = 60.0) -> None:
        """Wait until ``count`` approval cards have been posted in all."""
        if not self.wait_for(lambda: self.card_count >= count, timeout):
            raise TimeoutError(f"{self.card_count} of {count} cards posted after {timeout}s")

    def cards(self) -> list[Message]:
        """Approval cards, oldest first."""
        with self._cond:
            return [
                m
                for m in self.messages.values()
                if m.channel == APPROVALS and m.thread_ts is None and m.text.startswith("MW-")
            ]

    def card_of(self, number: int, timeout: float = 30.0) -> Message:
        """MW-<number>'s card, once the bot has posted it."""
        prefix = f"MW-{number}:"
        found: list[Message] = []

        def posted() -> bool:
            found[:] = [m for m in self.messages.values() if m.text.startswith(prefix)]
            return bool(found)

        if not self.wait_for(posted, timeout):
            raise TimeoutError(f"the card of MW-{number} was not posted within {timeout}s")
        return found[0]

    def first_after(
        self, since: int, needle: str, *, thread: str | None = None, timeout: float = 30.0
    ) -> Stamp:
        """The first message after the ``since``-th that contains ``needle`` (in ``thread``)."""
        found: list[Stamp] = []

        def arrived() -> bool:
            found[:] = [
                s
                for s in self.posted[since:]
                if needle in s.text and (thread is None or s.thread_ts == thread)
            ]
            return bool(found)

        if not self.wait_for(arrived, timeout):
            raise TimeoutError(f"no message saying {needle!r} within {timeout}s")
        return found[0]
