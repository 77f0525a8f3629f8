"""The webhook ledger on each database: fan-out by filter, claims in order per endpoint,
retries, release, and forgetting events long delivered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import WebhookConfig, WebhookDeliveryConfig
from bot.services.webhook_ledger import WebhookLedger
from storage import webhooks
from storage.models import WebhookDelivery, WebhookEvent
from tests.harness import ManualClock


def ledger(sessions: sessionmaker[Session], clock: ManualClock, **policy: Any) -> WebhookLedger:
    endpoints = [
        WebhookConfig(name="all", url="https://a.example.edu/", secret_env="A_SECRET"),
        WebhookConfig(
            name="ends", url="https://b.example.edu/", secret_env="B_SECRET", events=["ended"]
        ),
    ]
    delivery = WebhookDeliveryConfig(first_retry_seconds=10, max_retry_seconds=10, **policy)
    return WebhookLedger(sessions, clock, endpoints, delivery, draw=lambda: 1.0)


def add(sessions: sessionmaker[Session], clock: ManualClock, n: int, type: str) -> None:
    with sessions.begin() as s:
        webhooks.add_event(
            s,
            event_id=f"evt_{n}",
            dedup_key=f"k{n}",
            type=type,
            window_id=None,
            body="{}",
            now=clock.now(),
        )


def test_events_fan_out_to_the_endpoints_that_want_them(sessions: sessionmaker[Session]) -> None:
    clock = ManualClock()
    hooks = ledger(sessions, clock)
    assert not hooks.anything_to_do()
    add(sessions, clock, 1, "requested")
    add(sessions, clock, 2, "ended")
    add(sessions, clock, 2, "ended")  # the same change twice: kept once
    assert hooks.anything_to_do()
    assert hooks.fan_out() == 2 and hooks.fan_out() == 0
    claimed = hooks.claim(10)
    assert [(c.event_id, c.endpoint) for c in claimed] == [
        ("evt_1", "all"),
        ("evt_2", "all"),
        ("evt_2", "ends"),
    ]
    assert hooks.claim(10) == []  # held while their attempts are made
    assert not hooks.anything_to_do()


def test_a_failed_event_holds_back_later_ones_for_its_endpoint_only(
    sessions: sessionmaker[Session],
) -> None:
    clock = ManualClock()
    hooks = ledger(sessions, clock, report_after=2)
    for n, type in enumerate(["ended", "ended"], start=1):
        add(sessions, clock, n, type)
    hooks.fan_out()
    first_all, second_all, first_ends, second_ends = sorted(
        hooks.claim(10), key=lambda c: (c.endpoint, c.event_id)
    )
    hooks.failed(first_all, "HTTP 503")
    hooks.release([second_all])
    hooks.delivered(first_ends)
    hooks.delivered(second_ends)
    assert hooks.claim(10) == []  # evt_2 waits for evt_1 on "all"
    clock.advance(timedelta(seconds=10))
    again = hooks.claim(10)
    assert [(c.event_id, c.attempts) for c in again] == [("evt_1", 2), ("evt_2", 1)]
    hooks.failed(again[0], "HTTP 503")  # the second failure in a row: down
    assert [(n.endpoint, n.down, n.key, n.last_error) for n in hooks.untold()] == [
        ("all", True, "down:1", "HTTP 503")
    ]
    news = hooks.untold()[0]
    hooks.told(news)
    assert hooks.untold() == []
    hooks.release(again[1:])
    clock.advance(timedelta(seconds=10))
    hooks.delivered(hooks.claim(10)[0])
    assert [(n.down, n.key) for n in hooks.untold()] == [(False, "up:1")]


def test_events_long_delivered_are_forgotten_and_owed_ones_kept(
    sessions: sessionmaker[Session],
) -> None:
    clock = ManualClock()
    hooks = ledger(sessions, clock, keep="1d", max_attempts=1)
    add(sessions, clock, 1, "requested")  # delivered
    add(sessions, clock, 2, "ended")  # "ends" gives up, "all" still owed
    hooks.fan_out()
    for attempt in hooks.claim(10):
        if attempt.event_id == "evt_1":
            hooks.delivered(attempt)
        elif attempt.endpoint == "ends":
            hooks.failed(attempt, "ConnectError")
    clock.advance(timedelta(days=2))
    add(sessions, clock, 3, "requested")  # recent
    assert hooks.purge() == 1
    with sessions.begin() as s:
        assert s.scalars(select(WebhookEvent.event_id).order_by(WebhookEvent.id)).all() == [
            "evt_2",
            "evt_3",
        ]
        statuses = s.scalars(
            select(WebhookDelivery.status).order_by(WebhookDelivery.endpoint)
        ).all()
        assert statuses == ["pending", "given_up"]
