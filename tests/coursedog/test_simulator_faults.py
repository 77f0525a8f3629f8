"""Fault descriptions and the book that hands them out."""

from __future__ import annotations

from typing import Any

import pytest

from coursedog.simulator_faults import Fault, FaultBook


def test_faults_match_method_and_path_fragment() -> None:
    fault = Fault("status", method="put", path_contains="integrationSchedule")
    assert fault.matches("PUT", "/api/v1/u/general/integrationSchedule")
    assert not fault.matches("GET", "/api/v1/u/general/integrationSchedule")
    assert not fault.matches("PUT", "/api/v1/u/integration/mergeSettings/activity")
    assert Fault("delay").matches("DELETE", "/anything")


def test_book_uses_faults_in_order_and_counts_uses() -> None:
    book = FaultBook()
    first = Fault("status", status=500, times=2)
    forever = Fault("status", status=503, times=None)
    book.add(first)
    book.add(forever)

    taken = [book.take("GET", "/x") for _ in range(4)]

    assert taken == [first, first, forever, forever]
    assert [f["status"] for f in book.describe()] == [503]
    assert book.describe()[0]["remaining"] is None
    book.clear()
    assert book.take("GET", "/x") is None


def test_non_matching_requests_do_not_use_a_fault_up() -> None:
    book = FaultBook()
    book.add(Fault("drop_before_apply", method="PUT"))
    assert book.take("GET", "/x") is None
    assert book.take("PUT", "/x") is not None
    assert book.take("PUT", "/x") is None


def test_from_json_builds_a_fault() -> None:
    fault = Fault.from_json({"kind": "timeout_after_apply", "method": "PUT", "hold": 0.5})
    assert fault == Fault("timeout_after_apply", method="PUT", hold=0.5)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "JSON object"),
        ({"kind": "meteor"}, "kind must be one of"),
        ({"kind": "status", "color": 1}, "unknown fault fields: color"),
        ({}, "bad fault"),
        ({"kind": "status", "times": 0}, "times must be at least 1"),
        ({"kind": "status", "status": 42}, "HTTP status"),
        ({"kind": "delay", "delay": -1}, "must not be negative"),
        ({"kind": "status", "times": "2"}, "bad fault"),
        ({"kind": "status", "times": True}, "times has the wrong type"),
        ({"kind": "status", "retry_after": 5}, "retry_after has the wrong type"),
        ({"kind": "status", "method": 1}, "method has the wrong type"),
    ],
)
def test_from_json_refuses_bad_faults(obj: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault.from_json(obj)
