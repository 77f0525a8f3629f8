"""Bounded retries at the client's one request path, and when a write must not be resent."""

from __future__ import annotations

import socket
import time
from email.utils import formatdate

import httpx
import pytest

from coursedog import errors
from coursedog.client import CoursedogClient
from coursedog.models import ALL_OFF, Schedule
from coursedog.retry import RetryPolicy
from coursedog.simulator import Simulator
from coursedog.simulator_faults import Fault, FaultKind
from tests.coursedog.conftest import EMAIL, PASSWORD, SCHOOL, MakeClient

SCHEDULE = "integrationSchedule"
ACTIVITY = "activity"


def reads(sim: Simulator) -> int:
    return sim.calls("GET", SCHEDULE)


def puts(sim: Simulator) -> int:
    return sim.calls("PUT", SCHEDULE)


def test_server_error_then_success_is_retried_after_a_short_backoff(
    sim: Simulator, client: CoursedogClient, waits: list[float]
) -> None:
    sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=500))

    assert client.read_schedule().schedule == Schedule(True, True)
    assert waits == [0.5]
    assert reads(sim) == 2


def test_long_outage_gives_up_after_max_attempts(
    sim: Simulator, client: CoursedogClient, waits: list[float]
) -> None:
    sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=503, times=None))

    with pytest.raises(errors.ServerError) as caught:
        client.read_schedule()

    assert caught.value.status == 503
    assert f"answered 503 for GET integrationSchedule (school {SCHOOL})" in str(caught.value)
    assert waits == [0.5, 1.0]
    assert reads(sim) == 3


def test_rate_limit_waits_the_seconds_it_was_told(
    sim: Simulator, client: CoursedogClient, waits: list[float]
) -> None:
    sim.inject(Fault("status", path_contains=SCHEDULE, status=429, retry_after="2"))

    client.read_schedule()

    assert waits == [2.0]


def test_rate_limit_waits_until_an_http_date(
    sim: Simulator, client: CoursedogClient, waits: list[float]
) -> None:
    later = formatdate(time.time() + 10, usegmt=True)
    sim.inject(Fault("status", path_contains=SCHEDULE, status=429, retry_after=later))

    client.read_schedule()

    assert len(waits) == 1
    assert 8.0 < waits[0] <= 10.0


def test_rate_limit_without_retry_after_backs_off_on_reads(
    sim: Simulator, client: CoursedogClient, waits: list[float]
) -> None:
    sim.inject(Fault("status", path_contains=SCHEDULE, status=429))

    client.read_schedule()

    assert waits == [0.5]


def test_retry_after_above_the_cap_raises_at_once(
    sim: Simulator, make_client: MakeClient, waits: list[float]
) -> None:
    client = make_client(retry=RetryPolicy(max_retry_after=5))
    sim.inject(Fault("status", path_contains=SCHEDULE, status=429, retry_after="120"))

    with pytest.raises(errors.RateLimited) as caught:
        client.read_schedule()

    assert caught.value.retry_after == 120.0
    assert "asked to wait 120s" in str(caught.value)
    assert waits == []
    assert reads(sim) == 1


def test_single_attempt_policy_never_retries(
    sim: Simulator, make_client: MakeClient, waits: list[float]
) -> None:
    client = make_client(retry=RetryPolicy(max_attempts=1))
    sim.inject(Fault("status", path_contains=SCHEDULE, status=500))

    with pytest.raises(errors.ServerError):
        client.read_schedule()
    assert waits == []


def test_write_is_repeated_when_the_server_says_come_back_later(
    sim: Simulator, client: CoursedogClient, waits: list[float]
) -> None:
    sim.inject(Fault("status", method="PUT", status=503, retry_after="1"))

    client.write_schedule(ALL_OFF)

    assert waits == [1.0]
    assert puts(sim) == 2
    assert sim.school(SCHOOL).writes == 1


@pytest.mark.parametrize(
    ("status", "error"), [(500, errors.ServerError), (429, errors.RateLimited)]
)
def test_write_is_not_repeated_on_an_ambiguous_error(
    sim: Simulator,
    client: CoursedogClient,
    waits: list[float],
    status: int,
    error: type[errors.ApiError],
) -> None:
    sim.inject(Fault("status", method="PUT", status=status))

    with pytest.raises(error):
        client.write_schedule(ALL_OFF)

    assert waits == []
    assert puts(sim) == 1


def test_write_applied_but_answer_lost_is_outcome_unknown_and_not_resent(
    sim: Simulator, make_client: MakeClient, waits: list[float]
) -> None:
    client = make_client(timeout=0.3)
    sim.inject(Fault("timeout_after_apply", method="PUT", path_contains=SCHEDULE))

    with pytest.raises(errors.OutcomeUnknown) as caught:
        client.write_schedule(ALL_OFF)

    assert isinstance(caught.value, errors.TransportError)
    assert "read back" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert (puts(sim), sim.school(SCHOOL).writes, waits) == (1, 1, [])
    # The caller settles the outcome by reading.
    assert client.read_schedule().schedule == ALL_OFF


def test_comment_applied_but_answer_lost_is_not_posted_twice(
    sim: Simulator, make_client: MakeClient
) -> None:
    client = make_client(timeout=0.3)
    sim.inject(Fault("timeout_after_apply", method="POST", path_contains=ACTIVITY))

    with pytest.raises(errors.OutcomeUnknown):
        client.post_activity_comment("Integration off")

    assert sim.school(SCHOOL).comments == ["Integration off"]
    assert sim.calls("POST", ACTIVITY) == 1


def test_write_dropped_before_apply_is_still_outcome_unknown(
    sim: Simulator, client: CoursedogClient, waits: list[float]
) -> None:
    # The client cannot tell a drop before applying from one after, so it does not resend.
    sim.inject(Fault("drop_before_apply", method="PUT", path_contains=SCHEDULE))

    with pytest.raises(errors.OutcomeUnknown):
        client.write_schedule(ALL_OFF)

    assert (puts(sim), sim.school(SCHOOL).writes, waits) == (1, 0, [])
    assert client.read_schedule().schedule == Schedule(True, True)


@pytest.mark.parametrize("kind", ["drop_before_apply", "timeout_after_apply"])
def test_reads_survive_a_lost_answer(
    sim: Simulator, make_client: MakeClient, waits: list[float], kind: FaultKind
) -> None:
    client = make_client(timeout=0.3)
    sim.inject(Fault(kind, method="GET", path_contains=SCHEDULE))

    assert client.read_schedule().schedule == Schedule(True, True)
    assert waits == [0.5]


def test_unreachable_host_raises_transport_error_after_bounded_tries(waits: list[float]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CoursedogClient(
        base_url=f"http://127.0.0.1:{port}",
        school=SCHOOL,
        email=EMAIL,
        password=PASSWORD,
        sleep=waits.append,
    )
    with client, pytest.raises(errors.TransportError) as caught:
        client.read_schedule()

    assert not isinstance(caught.value, errors.OutcomeUnknown)
    assert f"Could not reach Coursedog at 127.0.0.1:{port}" in str(caught.value)
    assert waits == [0.5, 1.0]


class _RefuseFirstPut(httpx.BaseTransport):
    """Fails the first PUT before it is sent, as a refused connection would."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.refused = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and not self.refused:
            self.refused = True
            raise httpx.ConnectError("connection refused", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_write_that_provably_was_not_sent_is_retried(
    sim: Simulator, make_client: MakeClient, waits: list[float]
) -> None:
    with httpx.Client(transport=_RefuseFirstPut()) as http:
        make_client(http=http).write_schedule(ALL_OFF)

    assert waits == [0.5]
    assert (puts(sim), sim.school(SCHOOL).writes) == (1, 1)
