"""The bot running for real over HTTP, with Slack and Coursedog stood in for on free ports."""

from __future__ import annotations

import itertools
import json
import os
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr
from waitress import wasyncore

from bot.config import Settings, parse_settings
from bot.run.clients import slack_client
from bot.run.contracts import write_contracts
from bot.run.http_server import BoundedServer, Limits, make_server
from bot.run.runtime import Runtime
from bot.run.server import wsgi_app
from bot.run.wiring import build_runtime
from bot.sandbox.slack_api import Message, SlackStandIn
from bot.sandbox.slack_requests import signed_headers
from bot.slack import ids
from bot.slack.after_ack import Lull
from bot.slack.text import escape
from coursedog.client import CoursedogClient
from coursedog.contract import WriteContract
from coursedog.retry import RetryPolicy
from coursedog.session import SessionPool
from coursedog.simulator import SchoolState, Simulator
from coursedog.wire import Shape

SIGNING_SECRET = "test-signing-secret-0123456789"
EMAIL = "svc-sis-maint@example.edu"
PASSWORD = "pw-never-shown-4711"
APPROVALS = "C0APPROVALS"
OPS = "C0OPS00000"
REQUESTER = "U0REQUEST1"
APPROVER = "U0APPROVE1"
APPROVER_2 = "U0APPROVE2"
STRANGER = "U0STRANGER"
CALENDAR_TOKEN = "calendar-token-for-tests-0123456789"
SERVED = Limits(threads=4)  # how running_bot serves the bot unless told otherwise
# A test waits for no lull in requests unless it is about the lull: work left for one starts
# as soon as no request is in progress, as in service, but without the 50 ms of quiet after.
# (A quiet of 0 would not wait for the request in progress, whose transaction may be open.)
NO_WAIT = 0.001
# The bot is served over plain HTTP: no client here needs the CA bundle httpx loads by default
# for each client (~30 ms).
PLAIN_HTTP = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def settings_document(base_url: str, **overrides: Any) -> dict[str, Any]:
    """A configuration with prod, staging and sandbox on the simulator."""

    def env(label: str, school: str) -> dict[str, Any]:
        return {
            "label": label,
            "base_url": base_url,
            "school": school,
            "email_env": "CD_EMAIL",
            "password_env": "CD_PASSWORD",
            # The simulator serves the assumed writes: the bot writes them without a contract.
            "driver": "api",
        }

    doc: dict[str, Any] = {
        "approvals_channel": APPROVALS,
        "approvers": [APPROVER, APPROVER_2],
        "environments": {
            "prod": {
                **env("Production", "state_u_prod"),
                "aliases": ["production"],
                "max_duration": "2d",
            },
            "staging": env("Staging", "state_u_staging"),
            "sandbox": env("Sandbox", "state_u_sandbox"),
        },
        # Most tests are not about the notice to Coursedog: their Activity comments go out at
        # once instead of waiting for a draft nobody sends (tests/bot/test_notices.py waits).
        "coursedog_notice": {"comment_wait_seconds": 0},
    }
    doc.update(overrides)
    return doc


def _envelope(kind: str, user: str) -> dict[str, Any]:
    """The fields every interactive payload from this workspace carries."""
    return {
        "type": kind,
        "team": {"id": "T0TEAM000"},
        "user": {"id": user},
        "api_app_id": "A0APP0000",
    }


def buttons(message: Message) -> list[str]:
    """The action ids of the buttons a message shows."""
    return [
        element["action_id"]
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current instant."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        with self._lock:
            self._now += delta


class Bot:
    """Drives the running app through its front door: signed HTTP requests."""

    def __init__(
        self,
        runtime: Runtime,
        url: str,
        slack: SlackStandIn,
        sim: Simulator,
        listeners: TrackingExecutor,
    ) -> None:
        self.runtime = runtime
        self.listeners = listeners
        self.url = url
        self.slack = slack
        self.sim = sim
        self.http = httpx.Client(timeout=10, verify=PLAIN_HTTP)
        self._n = itertools.count(1)
        self._restarts = 0
        self.signing_secret = SIGNING_SECRET
        self._last: tuple[str, dict[str, str]] = ("", {})
        self.rebuild: Callable[[str], tuple[Runtime, TrackingExecutor]]

    def post(
        self,
        body: str,
        content_type: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> httpx.Response:
        """POST a body to /slack/events signed as Slack signs it (by default, correctly)."""
        secret = self.signing_secret if secret is None else secret
        headers = signed_headers(secret, body, content_type, timestamp=timestamp)
        self._last = (body, headers)
        return self.http.post(self.url, content=body, headers=headers)

    def replay(self, *, wait: bool = True) -> httpx.Response:
        """POST the last request again exactly as it was sent: same body, timestamp, signature
        (a copy of it within Slack's five minutes); by default wait for the work after it."""
        body, headers = self._last
        response = self.http.post(self.url, content=body, headers=headers)
        if wait:
            assert self.settle()
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET one of the bot's other routes (/healthz, /metrics, /calendar/...)."""
        return self.http.get(self.url.removesuffix("/slack/events") + path, **kwargs)

    def command(
        self, user: str, text: str, *, wait: bool = True, sent: bool = False
    ) -> httpx.Response:
        """Type ``/sis-maint <text>`` as ``user``; by default wait for the work after the ack.

        Slack sends typed ``&``, ``<`` and ``>`` as entities; ``sent``: ``text`` is already as
        Slack sends it (entities, and Slack's own markup such as ``<@U1|name>``).
        """
        body = self.command_body(user, text, sent=sent)
        response = self.post(body, "application/x-www-form-urlencoded")
        if wait:  # what the listener does after acknowledging is part of the answer
            assert self.settle()
        return response

    def command_body(self, user: str, text: str, *, sent: bool = False) -> str:
        """The form Slack posts for ``/sis-maint <text>`` typed by ``user`` (see ``command``)."""
        n = next(self._n)
        form = {
            "token": "legacy",
            "team_id": "T0TEAM000",
            "channel_id": OPS,
            "user_id": user,
            "command": ids.COMMAND,
            "text": text if sent else escape(text),
            "response_url": self.slack.response_url(f"cmd-{n}"),
            "trigger_id": f"trigger-{n}",
            "api_app_id": "A0APP0000",
        }
        return urlencode(form)

    def click(
        self,
        user: str,
        action_id: str,
        value: str,
        message: Message | None = None,
        *,
        wait: bool = True,
    ) -> httpx.Response:
        """Press a button as ``user`` on ``message`` (by default the newest approval card)."""
        message = message or self.card()
        n = next(self._n)
        payload = {
            **_envelope("block_actions", user),
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
            },
            "channel": {"id": message.channel},
            "message": {"ts": message.ts, "text": message.text},
            "response_url": self.slack.response_url(f"click-{n}"),
            "trigger_id": f"trigger-{n}",
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
        return self._interact(payload, wait=wait)

    def open_home(self, user: str) -> httpx.Response:
        """Open the App Home tab as ``user`` (an ``app_home_opened`` event)."""
        n = next(self._n)
        body = {
            "type": "event_callback",
            "team_id": "T0TEAM000",
            "api_app_id": "A0APP0000",
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": f"D{user[1:]}",
                "tab": "home",
                "event_ts": f"{n}.0",
            },
            "event_id": f"Ev{n:08d}",
            "event_time": int(time.time()),
        }
        response = self.post(json.dumps(body), "application/json")
        assert self.settle()
        return response

    def click_home(self, user: str, action_id: str, value: str) -> httpx.Response:
        """Press a button on the App Home (such clicks carry no response_url)."""
        payload = {
            **_envelope("block_actions", user),
            "container": {"type": "view", "view_id": "VH0"},
            "view": {"id": "VH0", "type": "home"},
            "trigger_id": "trigger-home",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": f"home_{value}",
                    "value": value,
                    "type": "button",
                    "action_ts": "1",
                }
            ],
        }
        return self._interact(payload)

    def _interact(self, payload: dict[str, Any], *, wait: bool = True) -> httpx.Response:
        """POST an interactive payload as Slack does; by default wait for the work after it."""
        response = self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        )
        if wait:
            assert self.settle()
        return response

    def submit_form(self, user: str, **fields: Any) -> httpx.Response:
        """Submit the request form as ``user``; ``fields`` are the form's values by block."""
        values: dict[str, Any] = {
            ids.B_ENVS: {"selected_options": [{"value": e} for e in fields.get("envs", [])]},
            ids.B_WHEN: {"selected_option": {"value": fields.get("when", ids.WHEN_NOW)}},
            ids.B_START: {"selected_date_time": fields.get("start")},
            ids.B_LENGTH: {"value": fields.get("length")},
            ids.B_END: {"selected_date_time": fields.get("end")},
            ids.B_REASON: {"value": fields.get("reason")},
            ids.B_TICKET: {"value": fields.get("ticket")},
        }
        payload = {
            **_envelope("view_submission", user),
            "view": {
                "id": "V0FORM",
                "type": "modal",
                "callback_id": ids.REQUEST_VIEW,
                "state": {"values": {b: {ids.FIELD_ACTION: v} for b, v in values.items()}},
            },
        }
        return self._interact(payload)

    def choose_start(self, user: str, when: str, view_id: str = "V00000001") -> httpx.Response:
        """Change the open form's start choice as ``user`` (the radio buttons answer at once)."""
        payload = {
            **_envelope("block_actions", user),
            "container": {"type": "view", "view_id": view_id},
            "view": {"id": view_id, "hash": "h1", "type": "modal", "callback_id": ids.REQUEST_VIEW},
            "trigger_id": "trigger-form",
            "actions": [
                {
                    "action_id": ids.FIELD_ACTION,
                    "block_id": ids.B_WHEN,
                    "type": "radio_buttons",
                    "selected_option": {"value": when},
                    "action_ts": "1",
                }
            ],
        }
        return self._interact(payload)

    def deny(
        self, user: str, number: int, reason: str | None = None, message: Message | None = None
    ) -> httpx.Response:
        """Press Deny on MW-<number>'s card as ``user`` and submit the modal it opens with
        ``reason``; the click's answer when no modal opened (a refusal, say)."""
        opened = len(self.slack.views)
        response = self.click(user, ids.DENY, str(number), message or self.card(number))
        if len(self.slack.views) == opened:
            return response
        return self.submit_view(user, self.slack.views[-1], {ids.B_DENY_REASON: reason})

    def submit_view(
        self, user: str, view: dict[str, Any], values: dict[str, str | None]
    ) -> httpx.Response:
        """Submit a modal the bot opened, with text ``values`` by block."""
        state = {block: {ids.FIELD_ACTION: {"value": v}} for block, v in values.items()}
        payload = {
            **_envelope("view_submission", user),
            "view": {**view, "id": "V0MODAL", "state": {"values": state}},
        }
        return self._interact(payload)

    def cards(self) -> list[Message]:
        """Approval cards in the approvals channel, oldest first."""
        return [
            m
            for m in self.slack.messages.values()
            if m.channel == APPROVALS and m.thread_ts is None
        ]

    def card(self, number: int | None = None) -> Message:
        """The card of MW-<number>, or the newest card."""
        cards = self.cards()
        if number is None:
            return cards[-1]
        return next(c for c in cards if f"MW-{number}:" in c.text)

    def wait_card(self, number: int) -> Message:
        """Wait until MW-<number>'s card is posted and recorded, then return it."""
        assert self.slack.wait_for(lambda: any(f"MW-{number}:" in c.text for c in self.cards()))
        assert self.settle()
        return self.card(number)

    def thread(self, number: int) -> list[str]:
        """Texts posted in MW-<number>'s thread."""
        card = self.card(number)
        return [m.text for m in self.slack.thread(card.channel, card.ts)]

    def responses(self) -> list[dict[str, Any]]:
        """Everything posted to response_urls."""
        return list(self.slack.responses)

    def tick(self) -> int:
        """Run the scheduler once at the clock's current time, then let everything settle."""
        ran = self.runtime.scheduler.run_due()
        assert self.settle()
        return ran

    def restart(self) -> None:
        """Stop this bot process and start a fresh one on the same ledger (a restart)."""
        self.settle()
        self.runtime.stop()
        self.listeners.shutdown(wait=True)
        self._restarts += 1
        self.runtime, self.listeners = self.rebuild(f"test-bot-{self._restarts + 1}")
        self.runtime.start(scheduler=False)
        assert self.settle()

    def thread_since(self, number: int, count: int) -> list[str]:
        """Thread texts of MW-<number> after the first ``count``."""
        return self.thread(number)[count:]

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until request work after the acknowledgements and the worker are both idle."""
        deadline = time.monotonic() + timeout
        for _ in range(3):  # a listener may kick the worker, whose reports never call back
            if not self.runtime.later.wait_idle(deadline - time.monotonic()):
                return False  # cards waiting for a lull in requests are on the pool after this
            if not self.listeners.wait_idle(deadline - time.monotonic()):
                return False
            if not self.runtime.worker.wait_idle(max(0.0, deadline - time.monotonic())):
                return False
            if not self.runtime.home.wait_idle(max(0.0, deadline - time.monotonic())):
                return False
        return True


class TrackingExecutor(ThreadPoolExecutor):
    """A listener pool that can tell when all submitted work has finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=8, thread_name_prefix="listener")
        self._pending = 0
        self._cond = threading.Condition()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:  # type: ignore[override]
        """Submit and count."""
        with self._cond:
            self._pending += 1

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

        return super().submit(run)

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, max(0.0, timeout))


@contextmanager
def running_bot(
    database_url: str,
    *,
    schools: Mapping[str, SchoolState] | None = None,
    settings: Settings | None = None,
    settings_factory: Callable[[str], Settings] | None = None,
    clock: Any = None,
    latency: float = 0.0,
    slack: SlackStandIn | None = None,
    slack_token: str | None = None,
    signing_secret: str = SIGNING_SECRET,
    password: str = PASSWORD,
    sleep: Callable[[float], None] = time.sleep,
    lull: Lull | None = None,
    limits: Limits = SERVED,
    shape: Shape = "seen",
    contract: WriteContract | None = None,
) -> Iterator[Bot]:
    """Start the simulator, the Slack stand-in and the bot on free ports; stop them after.

    The bot is served by the production server (bot.http_server), with ``limits``. The
    simulator's reads answer what has been seen of Coursedog; ``shape="assumed"`` adds the
    nightly and real-time booleans, for a state syncType alone cannot express. The simulator
    serves the writes as ``contract`` says (None: the assumed ones); the bot's clients write
    as the contracts stored in the ledger say, as in production. Cards wait for no lull in
    requests longer than a millisecond unless ``lull`` says so (tests/bot/test_lull.py tests it).
    """
    sim = Simulator(
        shape=shape,
        users={EMAIL: password},
        schools=dict(schools)
        if schools is not None
        else {
            "state_u_prod": SchoolState(nightly=True, realtime=True),
            "state_u_staging": SchoolState(nightly=True, realtime=False),
            "state_u_sandbox": SchoolState(nightly=False, realtime=False),
        },
        latency=latency,
        contract=contract,
    )
    base = sim.start()
    if slack is None:
        slack = SlackStandIn() if slack_token is None else SlackStandIn(token=slack_token)
    api_url = slack.start()
    if settings is None:
        settings = (settings_factory or (lambda url: parse_settings(settings_document(url))))(base)

    def build(owner: str) -> tuple[Runtime, TrackingExecutor]:
        listeners = TrackingExecutor()
        # As in production: the environments on the simulator's host share one login.
        pool = SessionPool(
            retry=RetryPolicy(max_attempts=2, base_backoff=0.0, max_backoff=0.0),
            timeout=2.0,
            sleep=sleep,
        )
        contracts = write_contracts(database_url, settings)
        clients = {
            name: CoursedogClient(
                school=env.school,
                session=pool.session(
                    base_url=env.base_url, email=EMAIL, password=password, wire=settings.wire(name)
                ),
                wire=settings.wire(name),
                contract=contracts.get(name),
            )
            for name, env in settings.environments.items()
            if env.reads  # an assisted environment without an API user has no client
        }
        runtime = build_runtime(
            settings,
            slack=slack_client(slack.token, api_url),
            signing_secret=signing_secret,
            clients=clients,
            database_url=database_url,
            clock=clock,
            owner=owner,
            listener_executor=listeners,
            calendar_token=SecretStr(CALENDAR_TOKEN),
            lull=lull or Lull(NO_WAIT),
            variables=os.environ,  # the SMTP login some tests set
        )
        return runtime, listeners

    runtime, listeners = build("test-bot-1")
    holder: list[Bot] = []

    def current_app(environ: dict[str, Any], start_response: Any) -> Any:
        # Requests go to whichever runtime is current, so a test can restart the bot.
        runtime = holder[0].runtime
        app = wsgi_app(runtime.app, signing_secret=signing_secret, ops=runtime.routes)
        return app(environ, start_response)

    socket_map: dict[int, Any] = {}
    # Bodies of any size reach the gate, whose refusal tests look at (in production waitress
    # refuses those over the gate's limit first).
    server = make_server(
        current_app, "127.0.0.1", 0, limits=limits, socket_map=socket_map, max_body=1 << 30
    )
    assert isinstance(server, BoundedServer)
    stopping = threading.Event()

    def serve() -> None:
        # waitress has no stop(): run its loop in small steps and close it from this thread.
        while not stopping.is_set():
            wasyncore.loop(timeout=0.02, map=socket_map, count=1, use_poll=True)
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        wasyncore.close_all(socket_map)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    runtime.start(scheduler=False)
    port = server.effective_port  # type: ignore[attr-defined]
    bot = Bot(runtime, f"http://127.0.0.1:{port}/slack/events", slack, sim, listeners)
    bot.rebuild = build
    bot.signing_secret = signing_secret
    holder.append(bot)
    try:
        yield bot
    finally:
        bot.settle()
        bot.http.close()
        stopping.set()
        thread.join(5)
        bot.runtime.stop()
        bot.listeners.shutdown(wait=True)
        slack.stop()
        sim.stop()
