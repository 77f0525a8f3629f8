"""FanOut: a pass's environments in parallel, within a bound per Coursedog host; Gathering:
their reports told together."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest

from bot.jobs.fan_out import FanOut
from bot.jobs.gathering import Gathering
from bot.services.reports import Report, ReportKind

HOSTS = {
    **{f"a{i}": "a.example.edu" for i in range(6)},
    **{f"b{i}": "b.example.edu" for i in range(3)},
}


class Tracker:
    """Counts how many tasks run at once on each host, at most."""

    def __init__(self, hold: float = 0.05) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.now: dict[str, int] = defaultdict(int)
        self.most: dict[str, int] = defaultdict(int)
        self.threads: set[str] = set()

    def __call__(self, env: str) -> str:
        host = HOSTS[env]
        with self.lock:
            self.now[host] += 1
            self.most[host] = max(self.most[host], self.now[host])
            self.threads.add(threading.current_thread().name)
        time.sleep(self.hold)
        with self.lock:
            self.now[host] -= 1
        return env.upper()


def test_each_host_gets_at_most_its_bound_and_hosts_run_side_by_side() -> None:
    fan = FanOut(HOSTS, 2)
    tracker = Tracker()
    try:
        results = fan.run(HOSTS, tracker)
    finally:
        fan.close()
    assert results == {env: env.upper() for env in sorted(HOSTS)}
    assert tracker.most == {"a.example.edu": 2, "b.example.edu": 2}


def test_up_to_the_bound_of_every_host_run_at_once() -> None:
    envs = ["a0", "a1", "a2", "b0", "b1", "b2"]
    meet = threading.Barrier(len(envs), timeout=10)  # broken unless all six run together

    def task(env: str) -> int:
        return meet.wait()

    fan = FanOut(HOSTS, 3)
    try:
        results = fan.run(envs, task)
    finally:
        fan.close()
    assert sorted(results) == envs
    assert all(isinstance(r, int) for r in results.values()), results


def test_one_failure_is_returned_for_its_environment_and_holds_up_no_other() -> None:
    def task(env: str) -> str:
        if env == "a1":
            raise RuntimeError("ledger unavailable")
        return env

    fan = FanOut(HOSTS, 4)
    try:
        results = fan.run(HOSTS, task)
    finally:
        fan.close()
    assert isinstance(results["a1"], RuntimeError)
    assert {env: r for env, r in results.items() if env != "a1"} == {
        env: env for env in HOSTS if env != "a1"
    }


def test_one_environment_runs_in_the_callers_thread() -> None:
    fan = FanOut(HOSTS, 4)
    tracker = Tracker(hold=0)
    try:
        assert fan.run(["b0"], tracker) == {"b0": "B0"}
    finally:
        fan.close()
    assert tracker.threads == {threading.current_thread().name}


def test_an_environment_of_no_known_host_is_a_host_of_its_own() -> None:
    fan = FanOut({}, 1)
    try:
        assert fan.run(["x", "y"], str.upper) == {"x": "X", "y": "Y"}
    finally:
        fan.close()


def test_the_bound_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        FanOut(HOSTS, 0)


def _said(env: str) -> Report:
    return Report(1, env, ReportKind.SWITCHED_OFF)


def test_a_gathering_tells_the_outcomes_together_once_each_environment_has_one() -> None:
    told: list[list[str]] = []
    gathering = Gathering(["a", "b", "c"], lambda rs: told.append([r.environment for r in rs]))
    gathering.publish_for("b")([_said("b")])
    gathering.publish_for("a")([_said("a")])
    assert told == []
    gathering.done("c")  # c's pass had nothing to say
    assert told == [["b", "a"]]
    gathering.publish_for("a")([_said("a2")])  # after the batch: at once
    gathering.done("a")
    gathering.done("b")
    assert told == [["b", "a"], ["a2"]]


def test_a_gathering_whose_publish_fails_keeps_no_report_and_raises_nothing_at_done(
    caplog: pytest.LogCaptureFixture,
) -> None:
    offered: list[list[str]] = []

    def refuse(reports: list[Report]) -> None:
        offered.append([r.environment for r in reports])
        raise RuntimeError("slack is down")

    gathering = Gathering(["a", "b", "c"], refuse)
    gathering.publish_for("a")([_said("a")])
    gathering.publish_for("b")([_said("b")])
    gathering.done("c")  # logged: the reports stay owed in the ledger for the next pass
    assert offered == [["a", "b"]]
    assert "posting 2 report(s) failed; they stay owed" in caplog.text
    assert "slack is down" in caplog.text
    gathering.done("a")
    gathering.done("b")
    assert offered == [["a", "b"]]  # not kept: nothing is offered again
