"""SIGKILL between a change and its webhook, or in the middle of a delivery, restart, and the
receiver hears of every change exactly once by event id (the example receiver's view, and what
it forwarded), in order.

The bot runs as `sis-maint serve` in its own process (tests/process.py); the example receiver
and a Teams stand-in run in the test process, so they outlive it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import WebhookDelivery
from tests.bot.test_crashes import request_and_approve, switched_off
from tests.process import Stack, eventually, stack
from tests.webhook_receivers import HOOK_SECRET, Recording, StandIn, receiver, stand_in

pytestmark = [pytest.mark.timeout(180), pytest.mark.subprocess]
CHANGES = ["requested", "approved", "active", "switched_off"]


@pytest.fixture
def hooked(database_url: str, tmp_path: Path) -> Iterator[tuple[Stack, Recording, StandIn]]:
    """The crash tests' stack, with one endpoint: the example receiver forwarding to Teams."""
    with (
        stand_in() as (forwarded, forward_url),
        receiver(tmp_path, forward_url) as (hook, url),
        stack(database_url, tmp_path) as world,
    ):
        world.variables["HOOK_SECRET"] = HOOK_SECRET
        with world.config.open("a") as config:
            config.write(
                f'\n[[webhooks]]\nname = "hook"\nurl = "{url}"\nsecret_env = "HOOK_SECRET"\n'
                "\n[webhook_delivery]\npoll_seconds = 0.05\ntimeout_seconds = 1\n"
                "first_retry_seconds = 0.05\nmax_retry_seconds = 0.2\n"
            )
        yield world, hook, forwarded


@pytest.mark.parametrize(
    "point",
    [
        "outcome",  # the switch-off and its event are committed; nothing delivered since
        "webhook@3",  # the third delivery was claimed (after the approval); nothing sent
        "webhook_sent@3",  # the receiver took the third event; its delivery not recorded
    ],
)
def test_every_change_reaches_the_receiver_once_across_a_crash(
    hooked: tuple[Stack, Recording, StandIn], point: str
) -> None:
    world, hook, forwarded = hooked
    world.start(crash_at=point)
    request_and_approve(world)
    assert world.killed(), world.log()

    world.start()
    assert eventually(lambda: switched_off(world)), world.log()
    assert eventually(lambda: len(hook.handled) == len(CHANGES), timeout=60), (
        hook.answers,
        world.log(),
    )
    assert hook.types() == CHANGES
    sent = Counter(event_id for event_id, _ in hook.answers)
    assert set(sent) == {event["id"] for event in hook.handled}
    # What the receiver did with them: one Teams card per change, whatever was sent twice.
    cards = [body for _, path, body in forwarded.requests if path == "/teams"]
    assert len(cards) == len(CHANGES)
    if point.startswith("webhook_sent"):
        assert sorted(sent.values()) == [1, 1, 1, 2]  # sent again, handled once

    def statuses() -> list[str]:  # the receiver answers before the bot records its answer
        with world.sessions.begin() as s:
            return list(s.scalars(select(WebhookDelivery.status)).all())

    assert eventually(lambda: statuses() == ["delivered"] * len(CHANGES)), statuses()
