"""GET /healthz: 200 when the ledger answers and every background loop completes passes, 503
naming what fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.loops import Pulse
from bot.ops.health import Check, Health, loop_check
from storage.db import make_engine, make_sessions
from tests.harness import Bot, running_bot


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    with running_bot(database_url) as running:
        yield running


def health(bot: Bot) -> tuple[int, dict[str, Any]]:
    response = bot.get("/healthz")
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


def test_healthy_while_the_ledger_answers_and_the_scheduler_loops(bot: Bot) -> None:
    scheduler = bot.runtime.scheduler
    scheduler.start()
    assert scheduler.asleep.wait(5)
    status, body = health(bot)
    assert status == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["scheduler"]["ok"]
    assert body["checks"]["scheduler"]["last_pass_seconds_ago"] < 5
    assert "socket_mode" not in body["checks"]  # HTTP mode


def test_a_scheduler_that_never_ran_or_stopped_looping_is_named(bot: Bot) -> None:
    status, body = health(bot)  # the harness drives the scheduler by hand: no pass yet
    assert status == 503 and body["failing"] == ["scheduler"]
    assert body["checks"]["database"]["ok"]

    bot.tick()
    assert health(bot)[0] == 200

    bot.runtime.scheduler.heartbeat.last_pass = time.monotonic() - 3600
    status, body = health(bot)
    assert status == 503 and body["failing"] == ["scheduler"]
    assert "no pass for 3600s" in body["checks"]["scheduler"]["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-directory/ledger.db",
        "postgresql://sis:pw-not-for-eyes@127.0.0.1:1/ledger",
    ],
)
def test_an_unreachable_database_is_named_without_its_address_or_password(
    bot: Bot, url: str
) -> None:
    bot.tick()
    engine = make_engine(url)
    bot.runtime.ops.health = Health(make_sessions(engine), loops=(), stale_floor=300)
    status, body = health(bot)
    engine.dispose()
    assert status == 503 and body["failing"] == ["database"]
    assert body["checks"]["database"]["detail"].startswith("cannot be reached")
    text = str(body)
    assert "pw-not-for-eyes" not in text and "nonexistent" not in text and "127.0.0.1" not in text


def test_a_database_that_does_not_answer_does_not_hang_the_probe() -> None:
    release = threading.Event()

    class Stuck:
        @contextmanager
        def begin(self) -> Iterator[None]:
            release.wait(10)
            yield

    probe = Health(Stuck(), loops=(), stale_floor=300, database_timeout=0.2)  # type: ignore[arg-type]
    started = time.monotonic()
    report = probe.report()
    release.set()
    assert time.monotonic() - started < 2
    assert report.failing == ["database"]
    assert report.checks["database"].detail == "no answer within 0.2s"


def test_socket_mode_counts_only_when_used_and_then_must_be_connected(bot: Bot) -> None:
    bot.tick()
    connected = [False]
    bot.runtime.ops.health.socket_mode = lambda: connected[0]
    status, body = health(bot)
    assert status == 503 and body["failing"] == ["socket_mode"]
    connected[0] = True
    status, body = health(bot)
    assert status == 200 and body["checks"]["socket_mode"] == {"ok": True, "detail": "connected"}


LOOPS = ["worker", "watchdog", "outbox", "scheduler", "home", "webhooks"]


def test_every_background_loop_has_a_check_and_one_without_a_recent_pass_is_named(
    bot: Bot,
) -> None:
    bot.tick()
    status, body = health(bot)
    assert status == 200, body
    assert list(body["checks"]) == ["database", *LOOPS]
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["watchdog"] == {"ok": True, "detail": "starting"}  # first due in 5 min
    assert body["checks"]["scheduler"]["detail"] == "looping"

    bot.runtime.worker.heartbeat.last_pass = time.monotonic() - 3600
    status, body = health(bot)
    assert status == 503 and body["failing"] == ["worker"]
    assert body["checks"]["worker"]["detail"] == "no pass for 3600s (limit 300s)"


def pulse(**fields: Any) -> Pulse:
    defaults: dict[str, Any] = {
        "name": "worker",
        "interval": 60.0,
        "started_ago": 10.0,
        "last_pass_ago": None,
        "failures": 0,
        "failing": 0,
        "last_error": None,
    }
    return Pulse(**(defaults | fields))


def test_a_loop_is_stale_after_three_of_its_intervals_and_never_before_the_floor() -> None:
    assert loop_check(pulse(last_pass_ago=179.0), 1).ok
    assert not loop_check(pulse(last_pass_ago=181.0), 1).ok
    assert loop_check(pulse(last_pass_ago=299.0), 300).ok  # the floor wins over 3 x 60 s
    assert loop_check(pulse(started_ago=100.0), 1) == Check(True, "starting")
    never = loop_check(pulse(started_ago=200.0), 1)
    assert never == Check(False, "no pass in the 200s since it started (limit 180s)")
    assert loop_check(pulse(started_ago=None), 1) == Check(False, "has not completed a pass yet")


def test_a_loop_whose_passes_fail_says_how_many_and_of_what() -> None:
    check = loop_check(
        pulse(last_pass_ago=400.0, failures=9, failing=7, last_error="OperationalError"), 300
    )
    assert check == Check(
        False,
        "no pass for 400s (limit 300s); the last 7 passes failed (OperationalError)",
        {"failed_passes_in_a_row": 7, "last_pass_seconds_ago": 400.0},
    )
    one = loop_check(pulse(last_pass_ago=5.0, failing=1, last_error="RuntimeError"), 300)
    assert one.ok and one.detail == "looping; the last pass failed (RuntimeError)"
