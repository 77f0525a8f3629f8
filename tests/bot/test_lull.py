"""Approval cards wait for a lull in requests, at most a bounded time (bot.slack.after_ack)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pytest
from slack_bolt import Respond

from bot.errors import PermissionDenied
from bot.logs import CarryContext, current_fields, log_context
from bot.slack.after_ack import Later, Lull


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_work_may_start_once_no_request_came_for_the_quiet_time() -> None:
    clock = Ticking()
    lull = Lull(0.05, 2.0, monotonic=clock)
    assert lull.remaining(clock.now) == 0.0  # no request yet: at once
    lull.arrived()
    lull.answered()
    assert lull.remaining(clock.now) == pytest.approx(0.05)
    clock.now += 0.03
    lull.arrived()  # another request: the quiet time starts again
    lull.answered()
    assert lull.remaining(clock.now - 0.03) == pytest.approx(0.05)
    clock.now += 0.05
    assert lull.remaining(clock.now - 0.08) == 0.0


def test_a_request_in_progress_is_no_lull_however_long_it_takes() -> None:
    clock = Ticking()
    lull = Lull(0.05, 2.0, monotonic=clock)
    since = clock.now
    lull.arrived()
    clock.now += 1.0  # a slow answer (a pause of the whole process, say)
    assert lull.serving == 1
    assert lull.remaining(since) == pytest.approx(0.05)  # not yet; ask again then
    lull.answered()
    assert lull.remaining(since) == pytest.approx(0.05)  # the quiet time counts from the answer
    clock.now += 0.05
    assert lull.remaining(since) == 0.0


def test_work_starts_after_the_longest_wait_however_many_requests_come() -> None:
    clock = Ticking()
    lull = Lull(0.05, 2.0, monotonic=clock)
    since = clock.now
    for _ in range(110):  # a request every 20 ms, for 2.2 s
        clock.now += 0.02
        lull.arrived()
        lull.answered()
    assert lull.remaining(since) == 0.0
    assert lull.remaining(since + 1.0) == pytest.approx(0.05)  # later work: the quiet time
    lull.arrived()  # and a request in progress does not hold up work that waited long enough
    assert lull.remaining(since) == 0.0


def test_the_lull_remembers_the_last_request() -> None:
    clock = Ticking()
    lull = Lull(monotonic=clock)
    assert lull.last_activity == float("-inf")
    lull.arrived()
    assert (lull.last_activity, lull.serving) == (clock.now, 1)
    clock.now += 0.2
    lull.answered()
    assert (lull.last_activity, lull.serving) == (clock.now, 0)


class Recorder:
    """A ``respond`` that remembers what it was told."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def __call__(self, text: str = "", **_: Any) -> None:
        self.said.append(text)

    @property
    def respond(self) -> Respond:
        return cast(Respond, self)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2)
    yield executor
    executor.shutdown(wait=True)


def arrivals(lull: Lull, seconds: float, stop: threading.Event) -> None:
    """Requests every 10 ms for ``seconds`` (or until ``stop``), each answered at once."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stop.is_set():
        lull.arrived()
        lull.answered()
        time.sleep(0.01)


def left_for_a_lull(
    pool: ThreadPoolExecutor, quiet: float, at_most: float
) -> tuple[Lull, Later, threading.Event]:
    """Work left for a lull just after a request was answered; the event is set when it runs."""
    lull = Lull(quiet, at_most)
    later = Later(pool, lull)
    ran = threading.Event()
    lull.arrived()
    lull.answered()
    later.when_quiet(Recorder().respond, ran.set)
    return lull, later, ran


def test_work_waits_while_requests_keep_coming_then_runs(pool: ThreadPoolExecutor) -> None:
    lull, later, ran = left_for_a_lull(pool, 0.5, 30.0)
    arrivals(lull, 1.0, threading.Event())  # 1 s of requests 10 ms apart: never 0.5 s quiet
    assert not ran.is_set()
    assert not later.wait_idle(0)  # still waiting for its lull
    assert ran.wait(10)  # the requests stopped: it runs
    assert later.wait_idle(10)
    later.close()


def test_work_runs_after_the_longest_wait_while_requests_keep_coming(
    pool: ThreadPoolExecutor,
) -> None:
    stop = threading.Event()
    lull, later, ran = left_for_a_lull(pool, 30.0, 0.2)
    requests = threading.Thread(target=arrivals, args=(lull, 30.0, stop))
    requests.start()
    try:
        assert ran.wait(10)  # never a quiet moment, yet it ran
    finally:
        stop.set()
        requests.join()
    later.close()


def test_work_runs_in_the_order_it_was_left() -> None:
    lull = Lull(0.05, 30.0)
    later = Later(ThreadPoolExecutor(max_workers=1), lull)
    order: list[int] = []
    lull.arrived()
    lull.answered()
    for n in range(5):
        later.when_quiet(Recorder().respond, lambda n=n: order.append(n))  # type: ignore[misc]
    assert later.wait_idle(10)
    later.close()
    later.executor.shutdown(wait=True)
    assert order == [0, 1, 2, 3, 4]


def test_closing_starts_what_waits_at_once(pool: ThreadPoolExecutor) -> None:
    _, later, ran = left_for_a_lull(pool, 60.0, 60.0)
    assert not ran.wait(0.2)
    started = time.monotonic()
    later.close()
    assert ran.wait(10)
    assert time.monotonic() - started < 10  # not after the minute it would have waited
    after = threading.Event()
    later.when_quiet(Recorder().respond, after.set)  # left after closing: run at once
    assert after.wait(10)


def test_an_error_in_work_left_for_a_lull_is_told_to_whoever_acted(
    pool: ThreadPoolExecutor,
) -> None:
    later = Later(pool, Lull(0.0, 0.0))
    told = Recorder()

    def fails() -> None:
        raise RuntimeError("boom")

    later.when_quiet(told.respond, fails)
    assert later.wait_idle(10)
    pool.shutdown(wait=True)
    assert len(told.said) == 1 and told.said[0], told.said
    later.close()


def test_work_left_for_a_lull_keeps_the_request_id_it_was_left_under(
    pool: ThreadPoolExecutor,
) -> None:
    later = Later(CarryContext(pool), Lull(0.05, 30.0))
    seen: list[dict[str, Any]] = []
    with log_context(request_id="req-42"):
        later.when_quiet(Recorder().respond, lambda: seen.append(current_fields()))
    assert later.wait_idle(10)
    pool.shutdown(wait=True)
    assert seen and seen[0].get("request_id") == "req-42"
    later.close()


class RefusingOnce(ThreadPoolExecutor):
    """A pool that refuses the first work handed to it, as a pool shutting down does."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.refused = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if not self.refused:
            self.refused += 1
            raise RuntimeError("cannot schedule new futures after shutdown")
        return super().submit(fn, *args, **kwargs)


def test_work_that_cannot_be_started_is_counted_and_the_lull_thread_goes_on() -> None:
    pool = RefusingOnce()
    later = Later(pool, Lull(0.0, 0.0))
    lost, ran = threading.Event(), threading.Event()
    later.when_quiet(Recorder().respond, lost.set)
    later.when_quiet(Recorder().respond, ran.set)
    assert ran.wait(10) and not lost.is_set()
    assert later.wait_idle(10)
    later.close()
    pool.shutdown(wait=True)
    pulse = later.lull_heartbeat.read()
    assert (pulse.failures, pulse.last_error) == (1, "RuntimeError")


def test_unexpected_errors_in_work_after_the_acknowledgement_are_counted(
    pool: ThreadPoolExecutor,
) -> None:
    later = Later(pool, Lull(0.0, 0.0))
    told = Recorder()

    def refused() -> None:
        raise PermissionDenied("You are not an approver for prod.")

    def broken() -> None:
        raise RuntimeError("boom")

    later(told.respond, refused)  # a person's mistake, told to them: not a failure
    later(told.respond, broken)
    later.quietly(broken)
    pool.shutdown(wait=True)
    assert len(told.said) == 2 and any("not an approver" in said for said in told.said)
    assert later.listeners.read().failures == 2
    later.close()
