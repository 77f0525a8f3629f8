"""The Slack Web API stand-in as the tests use it."""

from __future__ import annotations

import time

from bot.sandbox.slack_api import SlackStandIn


def test_the_stand_in_stops_at_once() -> None:
    """Every test that runs the bot starts and stops one: five of them take under half a second
    (its server looks for the stop every 10 ms, not every half second)."""
    started = time.monotonic()
    for _ in range(5):
        slack = SlackStandIn()
        slack.start()
        slack.stop()
    assert time.monotonic() - started < 0.5


def test_two_stand_ins_never_give_two_messages_one_ts() -> None:
    """A bot on the ledger another bot left updates that bot's cards by their ts, in the same
    second: a message of the second stand-in must not take one of those."""
    first, second = SlackStandIn(), SlackStandIn()
    tokens = {first.new_ts() for _ in range(3)} | {second.new_ts() for _ in range(3)}
    assert len(tokens) == 6
