"""Reads started by a decision before the worker holds the lease (bot.services.read_ahead):
started only while nobody holds the lease, handed to the next pass only when nobody took the
lease in between and the answer is moments old."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.read_ahead import FRESH_SECONDS, ReadAhead
from coursedog.models import Schedule, ScheduleSnapshot
from storage import leases
from tests.harness import ManualClock

TTL = timedelta(minutes=5)


class CountingApi:
    """A schedule that answers at once, realtime on at every odd read, counting its reads."""

    def __init__(self) -> None:
        self.reads = 0
        self._lock = threading.Lock()

    def read_schedule(self) -> ScheduleSnapshot:
        with self._lock:
            self.reads += 1
            n = self.reads
        return ScheduleSnapshot(Schedule(nightly=True, realtime=n % 2 == 1), "ss-1")


class Inline(Executor):
    """Runs each read as it is submitted, so that the tests need not wait for threads."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # handed over in the future, as a pool would
            future.set_exception(exc)
        return future


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api() -> CountingApi:
    return CountingApi()


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ahead(api: CountingApi, ticks: Ticks) -> Iterator[ReadAhead]:
    reader = ReadAhead({"prod": api, "staging": api}, monotonic=ticks, executor=Inline())
    yield reader
    reader.close()


def start(sessions: sessionmaker[Session], ahead: ReadAhead, *envs: str) -> None:
    with sessions.begin() as s:
        ahead.start(s, list(envs))


def lease(sessions: sessionmaker[Session], clock: ManualClock, env: str, owner: str) -> int | None:
    with sessions.begin() as s:
        return leases.acquire_lease(s, env, owner, clock.now(), TTL)


def release(sessions: sessionmaker[Session], env: str, owner: str, epoch: int) -> None:
    with sessions.begin() as s:
        assert leases.release_lease(s, env, owner, epoch)


def test_the_pass_that_takes_the_lease_next_gets_the_read(
    sessions: sessionmaker[Session], ahead: ReadAhead, api: CountingApi, clock: ManualClock
) -> None:
    start(sessions, ahead, "prod", "staging")  # never leased yet: epoch 0
    epoch = lease(sessions, clock, "prod", "worker")
    assert epoch == 1

    read = ahead.take("prod", epoch)

    assert read is not None
    assert read.result().schedule.nightly is True
    assert ahead.take("prod", epoch) is None  # handed over once
    assert api.reads == 2  # prod and staging, each once


def test_a_lease_given_back_is_free_again(
    sessions: sessionmaker[Session], ahead: ReadAhead, api: CountingApi, clock: ManualClock
) -> None:
    earlier = lease(sessions, clock, "prod", "worker")
    assert earlier is not None
    release(sessions, "prod", "worker", earlier)

    start(sessions, ahead, "prod")

    assert api.reads == 1
    assert ahead.take("prod", lease(sessions, clock, "prod", "worker")) is not None


def test_a_second_decision_shares_a_read_answered_moments_ago(
    sessions: sessionmaker[Session], ahead: ReadAhead, api: CountingApi, clock: ManualClock
) -> None:
    start(sessions, ahead, "prod")
    start(sessions, ahead, "prod")

    assert ahead.take("prod", lease(sessions, clock, "prod", "worker")) is not None
    assert api.reads == 1


def test_a_read_is_dropped_when_someone_took_the_lease_in_between(
    sessions: sessionmaker[Session], ahead: ReadAhead, clock: ManualClock
) -> None:
    start(sessions, ahead, "prod")
    other = lease(sessions, clock, "prod", "another replica")  # it may have written meanwhile
    assert other is not None
    release(sessions, "prod", "another replica", other)

    assert ahead.take("prod", lease(sessions, clock, "prod", "worker")) is None


def test_nothing_is_read_ahead_while_the_lease_is_held(
    sessions: sessionmaker[Session], ahead: ReadAhead, api: CountingApi, clock: ManualClock
) -> None:
    held = lease(sessions, clock, "prod", "worker")  # by this process's own pass, even
    assert held is not None

    start(sessions, ahead, "prod")

    assert api.reads == 0
    release(sessions, "prod", "worker", held)
    assert ahead.take("prod", lease(sessions, clock, "prod", "worker")) is None


def test_a_lease_that_ran_out_is_not_taken_for_free(
    sessions: sessionmaker[Session], ahead: ReadAhead, api: CountingApi, clock: ManualClock
) -> None:
    # Its holder may be stalled mid-pass: it could still renew, write and give the lease back
    # without the epoch moving, so a read before that write would pass for a fresh one.
    stalled = lease(sessions, clock, "prod", "a stalled replica")
    assert stalled is not None
    clock.advance(TTL + timedelta(seconds=1))

    start(sessions, ahead, "prod")

    assert api.reads == 0
    with sessions.begin() as s:
        assert leases.renew_lease(s, "prod", "a stalled replica", stalled, now=clock.now(), ttl=TTL)
    release(sessions, "prod", "a stalled replica", stalled)
    assert ahead.take("prod", lease(sessions, clock, "prod", "worker")) is None


def test_an_answer_that_waited_too_long_is_dropped(
    sessions: sessionmaker[Session], ahead: ReadAhead, clock: ManualClock, ticks: Ticks
) -> None:
    start(sessions, ahead, "prod")
    ticks.now += FRESH_SECONDS

    assert ahead.take("prod", lease(sessions, clock, "prod", "worker")) is None


def test_a_stale_answer_is_replaced_by_the_next_decision(
    sessions: sessionmaker[Session], ahead: ReadAhead, api: CountingApi, clock: ManualClock,
    ticks: Ticks,
) -> None:  # fmt: skip
    start(sessions, ahead, "prod")
    ticks.now += FRESH_SECONDS + 1
    start(sessions, ahead, "prod")

    read = ahead.take("prod", lease(sessions, clock, "prod", "worker"))

    assert read is not None and read.result().schedule.realtime is False  # the second read
    assert api.reads == 2


def test_a_pass_that_did_not_get_the_lease_drops_the_read(
    sessions: sessionmaker[Session], ahead: ReadAhead, clock: ManualClock
) -> None:
    start(sessions, ahead, "prod")

    assert ahead.take("prod", None) is None
    assert ahead.take("prod", lease(sessions, clock, "prod", "worker")) is None


def test_environments_without_a_reading_client_are_left_alone(
    sessions: sessionmaker[Session], ahead: ReadAhead, api: CountingApi
) -> None:
    start(sessions, ahead, "assisted-only")

    assert api.reads == 0


def test_once_closed_a_decision_still_goes_through_and_reads_nothing(
    sessions: sessionmaker[Session], ahead: ReadAhead, api: CountingApi
) -> None:
    ahead.close()

    start(sessions, ahead, "prod")

    assert api.reads == 0


def test_a_failed_read_is_handed_over_to_report_it(
    sessions: sessionmaker[Session], clock: ManualClock, ticks: Ticks
) -> None:
    class Down:
        def read_schedule(self) -> ScheduleSnapshot:
            raise ConnectionError("Coursedog is down")

    ahead = ReadAhead({"prod": Down()}, monotonic=ticks, executor=Inline())
    start(sessions, ahead, "prod")

    read = ahead.take("prod", lease(sessions, clock, "prod", "worker"))

    assert read is not None and isinstance(read.exception(), ConnectionError)


class CountingPool(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def test_a_schedule_slow_to_answer_is_not_read_twice_ahead(
    sessions: sessionmaker[Session], clock: ManualClock, ticks: Ticks
) -> None:
    answer = threading.Event()
    api = CountingApi()

    class Slow:
        def read_schedule(self) -> ScheduleSnapshot:
            answer.wait(10)
            return api.read_schedule()

    pool = CountingPool()
    ahead = ReadAhead({"prod": Slow()}, monotonic=ticks, executor=pool)
    try:
        start(sessions, ahead, "prod")
        assert ahead.take("prod", None) is None  # dropped while still under way
        start(sessions, ahead, "prod")

        assert pool.submitted == 1
    finally:
        answer.set()
        ahead.close()
