"""The worker's thread outlives any failed pass: it counts it, backs off and does it again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.jobs.worker import Worker


class Unreachable(Exception):
    """What the ledger raises while the database is away."""


class FlakyReconciler:
    """A reconciler whose ledger fails on cue; records every environment it reconciled. Its
    ``owed_reports`` stands for the outbox's (the worker's ``owed``)."""

    def __init__(
        self,
        *,
        in_play: set[str] | None = None,
        in_play_fails: int = 0,
        owed_fails: int | None = 0,
        reconcile_fails: dict[tuple[str, bool], int] | None = None,
    ) -> None:
        self.in_play = in_play if in_play is not None else {"prod"}
        self.in_play_fails = in_play_fails
        self.owed_fails = owed_fails  # None: always
        self.reconcile_fails = dict(reconcile_fails or {})
        self.reconciled: list[tuple[str, bool]] = []
        self.changed = threading.Condition()
        self.leased_elsewhere: dict[str, float] = {}  # told once by busy(), as a pass finds it

    def environments_in_play(self) -> set[str]:
        if self.in_play_fails:
            self.in_play_fails -= 1
            raise Unreachable("connection refused")
        return set(self.in_play)

    def owed_reports(self) -> list[Any]:
        if self.owed_fails is None or self.owed_fails > 0:
            if self.owed_fails:
                self.owed_fails -= 1
            raise Unreachable("connection refused")
        return []

    def reconcile(self, env: str, *, watch: bool, **_: Any) -> list[Any]:
        key = (env, watch)
        if self.reconcile_fails.get(key):
            self.reconcile_fails[key] -= 1
            raise Unreachable(f"reconciling {env} failed")
        with self.changed:
            self.reconciled.append(key)
            self.changed.notify_all()
        return []

    def busy(self) -> dict[str, float]:
        found, self.leased_elsewhere = self.leased_elsewhere, {}
        return found

    def wait_for(self, key: tuple[str, bool], timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: key in self.reconciled, timeout)

    def close(self) -> None:
        pass


@contextmanager
def running(reconciler: FlakyReconciler, **kwargs: Any) -> Iterator[Worker]:
    worker = Worker(
        reconciler,  # type: ignore[arg-type]
        lambda reports: None,
        owed=reconciler.owed_reports,
        environments=["prod", "staging"],
        **kwargs,
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def test_a_tick_that_cannot_read_the_ledger_is_counted_and_tried_again() -> None:
    reconciler = FlakyReconciler(in_play_fails=3)
    with running(reconciler, interval=0.05) as worker:
        assert reconciler.wait_for(("prod", False))  # the fourth try read the ledger
        assert worker.is_alive()
        pulse = worker.heartbeat.read()
    assert (pulse.failures, pulse.last_error) == (3, "Unreachable")
    assert pulse.last_pass_ago is not None


def test_an_environment_that_failed_is_reconciled_again_after_the_backoff() -> None:
    # Staging is in play for nobody: only the kick asks for it, so only a retry can redo it.
    reconciler = FlakyReconciler(reconcile_fails={("staging", False): 2})
    with running(reconciler, interval=0.1) as worker:
        worker.kick(["staging"])
        assert reconciler.wait_for(("staging", False))
        assert worker.wait_idle(5)
        pulse = worker.heartbeat.read()
    assert (pulse.failures, pulse.failing) == (2, 0)
    assert pulse.last_error == "Unreachable"  # the environment's error, not the group's


def test_an_outbox_that_fails_holds_up_no_environment() -> None:
    reconciler = FlakyReconciler(owed_fails=None)
    with running(reconciler, interval=0.05) as worker:
        assert reconciler.wait_for(("prod", False))
        outbox, own = worker.outbox.read(), worker.heartbeat.read()
    assert outbox.failures >= 1 and outbox.last_pass_ago is None
    assert own.failures == 0 and own.last_pass_ago is not None


def test_cards_that_cannot_be_posted_count_as_an_outbox_failure() -> None:
    reconciler = FlakyReconciler()
    tried = threading.Event()

    def post_owed_cards() -> None:
        tried.set()
        raise Unreachable("connection refused")

    worker = Worker(reconciler, lambda reports: None, owed=reconciler.owed_reports, interval=0.05)  # type: ignore[arg-type]
    worker.chores = post_owed_cards
    worker.start()
    try:
        assert tried.wait(5) and reconciler.wait_for(("prod", False))
    finally:
        worker.stop()
    assert worker.outbox.read().failures >= 1 and worker.heartbeat.read().failures == 0


def test_a_failed_watch_is_counted_as_the_watchdogs_and_tried_again() -> None:
    reconciler = FlakyReconciler(reconcile_fails={("prod", True): 1})
    with running(reconciler, interval=0.05, watchdog_interval=0.1) as worker:
        assert reconciler.wait_for(("staging", True)) and reconciler.wait_for(("prod", True))
        watchdog, own = worker.watchdog.read(), worker.heartbeat.read()
    assert watchdog.failures == 1 and watchdog.last_pass_ago is not None
    assert own.failures == 0  # counted once, under the part that failed


def test_an_environment_leased_elsewhere_is_tried_again_when_the_lease_runs_out() -> None:
    # Nothing is in play and the periodic pass is an hour away: only the lease's end brings
    # the worker back to staging (the other process may have died holding it).
    reconciler = FlakyReconciler(in_play=set())
    reconciler.leased_elsewhere = {"staging": 0.2}
    with running(reconciler, interval=3600) as worker:
        worker.kick(["staging"])
        with reconciler.changed:
            assert reconciler.changed.wait_for(
                lambda: reconciler.reconciled.count(("staging", False)) == 2, 5
            )
        assert worker.wait_idle(5)
        assert reconciler.reconciled.count(("staging", False)) == 2  # not again: it was free
