"""A switch-off held until the thread has been told what runs (bot.services.start_gates)."""

from __future__ import annotations

import threading
import time

import pytest

from bot.services.start_gates import StartGates


def test_a_pass_waits_at_a_held_gate_until_it_is_opened() -> None:
    gates = StartGates(bound_seconds=10)
    opened = gates.hold(["prod", "staging"])
    passed = threading.Event()

    def write() -> None:
        gates.wait("prod")
        passed.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not passed.wait(0.2)  # held: nothing is written yet
    opened()
    assert passed.wait(5)
    writer.join()
    started = time.monotonic()
    gates.wait("staging")  # opened together, and forgotten: no wait
    assert time.monotonic() - started < 1


def test_an_environment_nobody_holds_passes_at_once() -> None:
    gates = StartGates(bound_seconds=10)
    gates.hold(["prod"])
    started = time.monotonic()
    gates.wait("staging")
    assert time.monotonic() - started < 1


def test_a_gate_never_opened_lets_the_pass_through_after_its_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gates = StartGates(bound_seconds=0.2)
    gates.hold(["prod"])
    started = time.monotonic()
    gates.wait("prod")
    assert 0.15 < time.monotonic() - started < 5
    assert "without waiting longer" in caplog.text


def test_a_later_hold_is_not_opened_by_an_earlier_one() -> None:
    gates = StartGates(bound_seconds=0.3)
    first = gates.hold(["prod"])
    gates.hold(["prod"])  # a second approval's hold on the same environment
    first()
    started = time.monotonic()
    gates.wait("prod")  # still held by the second
    assert time.monotonic() - started > 0.25
