"""Background loops: a failed pass is logged, counted and backed off from, never fatal."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from bot.loops import BackgroundLoop, Heartbeat, Incomplete, backoff, run_pass


class Scripted(BackgroundLoop):
    """A loop whose passes fail while ``failures`` has any left."""

    thread_name = "test-scripted"

    def __init__(self, failures: int, interval: float = 0.05) -> None:
        super().__init__("scripted", interval)
        self.failures = failures
        self.passes = 0
        self.done = threading.Event()
        self.started_at: list[float] = []

    def _step(self) -> None:
        self.started_at.append(time.monotonic())
        if self.failures:
            self.failures -= 1
            raise RuntimeError("ledger unreachable")
        self.passes += 1
        self.done.set()
        with self._cond:
            self._cond.wait_for(lambda: self._stopping, self.interval)


def test_the_backoff_doubles_from_a_second_and_never_passes_the_interval() -> None:
    assert [backoff(n, 60.0) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff(1000, 60.0) == 60.0
    assert [backoff(n, 0.05) for n in (1, 2, 10)] == [0.05, 0.05, 0.05]


def test_a_failed_pass_is_logged_with_the_loops_name_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    beat = Heartbeat("outbox", 60.0)

    def fails() -> None:
        raise RuntimeError("ledger unreachable")

    with caplog.at_level(logging.INFO, logger="bot.loops"):
        assert run_pass(beat, fails) is False
        assert run_pass(beat, fails, retry_in=lambda n: 2.0**n) is False
        assert run_pass(beat, lambda: None) is True
    first, again, back = caplog.records
    assert first.exc_info is not None and "background loop outbox" in first.getMessage()
    assert "again (2 in a row): RuntimeError: ledger unreachable; next try in 4s" in (
        again.getMessage()
    )
    assert "completed after 2 failed" in back.getMessage()
    pulse = beat.read()
    assert (pulse.failures, pulse.failing, pulse.last_error) == (2, 0, "RuntimeError")
    assert pulse.last_pass_ago is not None and pulse.last_pass_ago < 5


def test_an_incomplete_pass_is_not_counted_twice_and_an_interrupt_is_never_swallowed() -> None:
    beat = Heartbeat("worker", 60.0)

    def incomplete() -> None:
        raise Incomplete("a part failed and was counted under its own name")

    def interrupted() -> None:
        raise KeyboardInterrupt

    assert run_pass(beat, incomplete) is False
    with pytest.raises(KeyboardInterrupt):
        run_pass(beat, interrupted)
    pulse = beat.read()
    assert (pulse.failures, pulse.last_pass_ago) == (0, None)


def test_a_loop_outlives_failed_passes_and_backs_off_between_them() -> None:
    loop = Scripted(failures=3)
    loop.start()
    try:
        assert loop.done.wait(10)
        assert loop.is_alive()
    finally:
        loop.stop()
    pulse = loop.heartbeat.read()
    assert (pulse.failures, pulse.failing, pulse.last_error) == (3, 0, "RuntimeError")
    assert pulse.started_ago is not None and pulse.last_pass_ago is not None
    gaps = [b - a for a, b in zip(loop.started_at, loop.started_at[1:4], strict=False)]
    assert all(gap >= 0.04 for gap in gaps), gaps  # each failure waited its backoff
    assert not loop.is_alive()


def test_stopping_cuts_a_backoff_short() -> None:
    loop = Scripted(failures=1_000_000, interval=30.0)  # backs off 1 s, 2 s, 4 s...
    loop.start()
    deadline = time.monotonic() + 5
    while loop.heartbeat.read().failures == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    loop.stop()
    assert time.monotonic() - started < 0.9
    assert not loop.is_alive()
