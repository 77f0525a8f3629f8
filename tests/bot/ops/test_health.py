"""GET /healthz: 200 when the ledger answers and the scheduler loops, 503 naming what fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.ops.health import Health
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

    bot.runtime.scheduler.last_pass = time.monotonic() - 3600
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
    bot.runtime.ops.health = Health(
        make_sessions(engine),
        scheduler_age=lambda: 1.0,
        scheduler_stale_after=300,
    )
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

    probe = Health(
        Stuck(), scheduler_age=lambda: 1.0, scheduler_stale_after=300, database_timeout=0.2
    )  # type: ignore[arg-type]
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
