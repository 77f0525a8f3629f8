"""Signed webhooks out, end to end: the running bot, its events written with each change, and
the example receiver (examples/webhook_receiver.py) checking every signature and handling each
event id once, forwarding to a Teams and Statuspage stand-in. Nothing leaves 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings, parse_settings
from bot.domain.webhooks import EventType
from bot.services import webhook_events
from bot.slack import ids
from coursedog.simulator_faults import Fault
from storage import windows
from storage.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.harness import APPROVALS, APPROVER, REQUESTER, Bot, running_bot, settings_document
from tests.process import eventually
from tests.webhook_receivers import HOOK_SECRET, receiver, stand_in

LIFECYCLE = ["requested", "approved", "active", "switched_off", "ended", "restored"]


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)


def configured(*endpoints: dict[str, Any], **delivery: Any) -> Callable[[str], Settings]:
    """Settings with these endpoints; the sender's own loop waits (the tests run its passes)."""
    policy = {"poll_seconds": 300, "first_retry_seconds": 0.01, "max_retry_seconds": 0.05}
    return lambda url: parse_settings(
        settings_document(url, webhooks=list(endpoints), webhook_delivery=policy | delivery)
    )


def endpoint(name: str, url: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "secret_env": "HOOK_SECRET", **fields}


@contextmanager
def bot_with(database_url: str, *endpoints: dict[str, Any], **delivery: Any) -> Iterator[Bot]:
    with running_bot(database_url, settings_factory=configured(*endpoints, **delivery)) as bot:
        yield bot


def deliver(bot: Bot, until: Callable[[], bool] = lambda: True) -> bool:
    """Let the bot finish, then run the sender's passes until ``until`` holds."""
    assert bot.settle()

    def once() -> bool:
        bot.runtime.webhooks.run_once()
        return until()

    return eventually(once, timeout=20)


def start_and_approve(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.wait_card(1)
    assert bot.click(APPROVER, ids.APPROVE, "1").status_code == 200
    assert bot.settle()


def channel_texts(bot: Bot, fragment: str) -> list[str]:
    return [
        m.text
        for m in bot.slack.messages.values()
        if m.channel == APPROVALS and m.thread_ts is None and fragment in m.text
    ]


def test_a_window_from_request_to_restore_reaches_the_receiver_signed_once_each(
    database_url: str, tmp_path: Path
) -> None:
    with (
        stand_in() as (forwarded, forward_url),
        receiver(tmp_path, forward_url, name="all") as (every, every_url),
        receiver(tmp_path, name="some") as (some, some_url),
        bot_with(
            database_url,
            endpoint("teams", every_url),
            endpoint("statuspage", some_url, events=["active", "ended"]),
        ) as bot,
    ):
        start_and_approve(bot)
        assert bot.command(REQUESTER, "end MW-1").status_code == 200
        assert deliver(bot, lambda: len(every.handled) == len(LIFECYCLE)), every.answers

        assert every.types() == LIFECYCLE
        assert some.types() == ["active", "ended"]  # the endpoint's filter
        # Every request passed the receiver's signature check and came once.
        assert all(status == 204 for _, status in every.answers + some.answers)
        assert len(every.answers) == len(LIFECYCLE) and len(some.answers) == 2
        off = every.handled[3]
        assert off["environment"] == "prod" and off["detail"]["verified"] is True
        assert off["detail"]["after"] == {"nightly": False, "realtime": False}
        assert off["window"]["label"] == "MW-1" and off["window"]["reason"] == "Banner patch"
        assert every.handled[1]["actor"] == APPROVER
        assert every.handled[-1]["detail"]["after"] == {"nightly": True, "realtime": True}
        # Forwarded: a Teams card per event; a Statuspage maintenance opened, then completed.
        cards = [body for _, path, body in forwarded.requests if path == "/teams"]
        assert len(cards) == len(LIFECYCLE)
        assert "MW-1 (prod): switched_off - Banner patch" in str(cards[3])
        incidents = [(m, p, b) for m, p, b in forwarded.requests if "/incidents" in p]
        assert [(m, b["incident"].get("status")) for m, _, b in incidents] == [
            ("POST", "in_progress"),
            ("PATCH", "completed"),
        ]
        assert incidents[1][1] == "/v1/pages/PAGE1/incidents/inc1"
        with bot.runtime.sessions.begin() as s:
            statuses = s.scalars(select(WebhookDelivery.status)).all()
        assert sorted(set(statuses)) == ["delivered"] and len(statuses) == 8


def test_a_refused_press_sends_nothing_and_a_denial_is_sent(
    database_url: str, tmp_path: Path
) -> None:
    with receiver(tmp_path) as (hook, url), bot_with(database_url, endpoint("hook", url)) as bot:
        bot.command(REQUESTER, "start prod 2h Banner patch")
        bot.wait_card(1)
        bot.click(REQUESTER, ids.APPROVE, "1")  # four eyes: refused, nothing changed
        bot.deny(APPROVER, 1, reason="Not during registration")
        assert deliver(bot, lambda: len(hook.handled) == 2)
        assert hook.types() == ["requested", "denied"]
        assert hook.handled[1]["window"]["state"] == "denied"
        assert hook.handled[1]["detail"] == {"reason": "Not during registration"}


def test_an_event_is_written_with_its_change_or_not_at_all(database_url: str) -> None:
    with bot_with(database_url, endpoint("hook", "http://127.0.0.1:9/in")) as bot:
        bot.command(REQUESTER, "start prod 2h Banner patch")
        assert bot.settle()
        sessions = bot.runtime.sessions
        with pytest.raises(RuntimeError), sessions.begin() as s:
            window = windows.get_window(s, 1)
            assert window is not None
            webhook_events.window_event(
                s, EventType.EXTENDED, window, window.requested_at, actor="x"
            )
            raise RuntimeError("the change fails after its event was added")
        with sessions.begin() as s:
            assert s.scalars(select(WebhookEvent.type)).all() == ["requested"]


def test_needs_a_person_tells_the_reason(database_url: str, tmp_path: Path) -> None:
    with (
        receiver(tmp_path) as (hook, url),
        bot_with(database_url, endpoint("hook", url, events=["needs_a_person"])) as bot,
    ):
        bot.sim.inject(Fault(kind="status", status=503, times=None))
        start_and_approve(bot)
        assert deliver(bot, lambda: len(hook.handled) == 1)
        event = hook.handled[0]
        assert event["environment"] == "prod" and event["window"]["state"] == "failed"
        assert event["detail"]["outcome"] == "off_failed" and "503" in event["detail"]["reason"]


def test_a_failed_delivery_is_retried_with_the_same_event_id_until_taken(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    with receiver(tmp_path) as (hook, url), bot_with(database_url, endpoint("hook", url)) as bot:
        hook.refuse = 3
        bot.command(REQUESTER, "start prod 2h Banner patch")
        assert deliver(bot, lambda: len(hook.handled) == 1)
        assert [status for _, status in hook.answers] == [500, 500, 500, 204]
        assert len({event_id for event_id, _ in hook.answers}) == 1
        with bot.runtime.sessions.begin() as s:
            delivery = s.scalars(select(WebhookDelivery)).one()
            assert (delivery.status, delivery.attempts) == ("delivered", 4)
        assert not channel_texts(bot, "Webhook endpoint")  # 3 in a row is under report_after
    # httpx logs each request; an endpoint by its name, never its URL (which may hold a token)
    assert "POST webhook hook" in caplog.text and url not in caplog.text


def test_a_delivery_is_given_up_after_its_attempts(database_url: str, tmp_path: Path) -> None:
    with (
        receiver(tmp_path) as (hook, url),
        bot_with(database_url, endpoint("hook", url), max_attempts=2, report_after=50) as bot,
    ):
        hook.refuse = 100
        bot.command(REQUESTER, "start prod 2h Banner patch")

        def given_up() -> bool:
            with bot.runtime.sessions.begin() as s:
                return s.scalars(select(WebhookDelivery.status)).all() == ["given_up"]

        assert deliver(bot, given_up)
        assert len(hook.answers) == 2
        with bot.runtime.sessions.begin() as s:
            assert s.scalars(select(WebhookDelivery.last_error)).one() == "HTTP 500"


def test_a_dead_endpoint_is_reported_once_and_its_recovery_once(
    database_url: str, tmp_path: Path
) -> None:
    # Signed with a secret the receiver does not know: every request is refused (401).
    with (
        receiver(tmp_path, secret="not-the-secret-the-bot-signs-with") as (hook, url),
        bot_with(database_url, endpoint("hook", url), report_after=3) as bot,
    ):
        start_and_approve(bot)
        bot.command(REQUESTER, "extend MW-1 1h")
        assert deliver(bot, lambda: len(hook.answers) >= 12)
        assert {status for _, status in hook.answers} == {401}
        down = channel_texts(bot, "Webhook endpoint `hook` has failed")
        assert len(down) == 1 and "HTTP 401" in down[0]

        hook.secret = HOOK_SECRET  # fixed on the receiver's side
        assert deliver(bot, lambda: len(hook.handled) == 5)
        assert hook.types() == ["requested", "approved", "active", "switched_off", "extended"]
        assert len(channel_texts(bot, "Webhook endpoint `hook` takes events again")) == 1
        assert deliver(bot)  # another pass says nothing more
        assert len(channel_texts(bot, "Webhook endpoint `hook`")) == 2
        with bot.runtime.sessions.begin() as s:
            row = s.get(WebhookEndpoint, "hook")
            assert row is not None and (row.down, row.failing, row.episode) == (False, 0, 1)


def test_a_hanging_endpoint_holds_up_no_switch(database_url: str, tmp_path: Path) -> None:
    with (
        receiver(tmp_path) as (hook, url),
        bot_with(database_url, endpoint("hook", url), poll_seconds=0.05, timeout_seconds=30) as bot,
    ):
        hook.gate = threading.Event()  # every request waits until the test lets it go
        bot.command(REQUESTER, "start prod 2h Banner patch")
        assert hook.arrived.wait(10)  # the sender's loop is stuck in the "requested" delivery
        bot.wait_card(1)
        bot.click(APPROVER, ids.APPROVE, "1")
        assert bot.settle()
        prod = bot.sim.school("state_u_prod")
        assert (prod.nightly, prod.realtime) == (False, False)
        assert "switched off and verified" in "\n".join(bot.thread(1))
        assert hook.handled == []
        hook.gate.set()
        assert eventually(lambda: len(hook.handled) == 4), hook.answers
        health = bot.get("/healthz").json()
        assert health["checks"]["webhooks"]["ok"] is True
        metrics = bot.get("/metrics").text
        assert 'sis_maint_webhook_deliveries{status="delivered"} 4.0' in metrics


def test_a_bot_with_no_endpoint_writes_no_events(database_url: str) -> None:
    """A change's transaction costs nothing for webhooks nobody configured."""
    with running_bot(database_url) as bot:
        start_and_approve(bot)
        with bot.runtime.sessions.begin() as s:
            assert s.scalars(select(WebhookEvent.type)).all() == []


def test_only_the_kinds_some_endpoint_hears_are_written(database_url: str) -> None:
    # Nothing listens there: what is written is the question, not what is delivered.
    hook = endpoint("statuspage", "http://127.0.0.1:9/in", events=["active"])
    with bot_with(database_url, hook) as bot:
        start_and_approve(bot)
        with bot.runtime.sessions.begin() as s:
            assert s.scalars(select(WebhookEvent.type)).all() == ["active"]
