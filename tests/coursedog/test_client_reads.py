"""The schedule and the saved state read at once, the switches alone, a write over a read."""

from __future__ import annotations

import threading

import pytest

from coursedog import errors
from coursedog.client import CoursedogClient
from coursedog.models import ALL_OFF, Schedule, ScheduleSnapshot
from coursedog.simulator import Simulator, Timing
from coursedog.simulator_faults import Fault
from coursedog.wire import WireConfig
from tests.coursedog.conftest import PASSWORD, SCHOOL, MakeClient

LOGIN = "/sessions"
SCHEDULE = "integrationSchedule"
SAVE_STATE = "enabledIntegrationSaveState"


def api_timings(sim: Simulator) -> list[Timing]:
    return [t for t in sim.timings if LOGIN not in t.path]


def overlap(a: Timing, b: Timing) -> bool:
    assert a.answered is not None and b.answered is not None
    return a.started < b.answered and b.started < a.answered


def read_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("coursedog-read")}


def test_the_schedule_and_the_saved_state_are_read_at_once(
    sim: Simulator, client: CoursedogClient
) -> None:
    client.read_schedule()  # logs in
    sim.latency = 0.1
    start = len(sim.timings)

    snapshot = client.read_schedule()

    assert snapshot == ScheduleSnapshot(Schedule(True, True), "ss-1")
    first, second = sim.timings[start:]
    assert {first.path.rsplit("/", 1)[-1], second.path.rsplit("/", 1)[-1]} == {
        SCHEDULE,
        SAVE_STATE,
    }
    assert overlap(first, second)
    assert sim.calls("POST", LOGIN) == 1


def test_the_first_read_logs_in_once_before_both_calls(
    sim: Simulator, client: CoursedogClient
) -> None:
    client.read_schedule()

    assert sim.requests[0] == ("POST", "/api/v1/sessions")
    assert sim.calls("POST", LOGIN) == 1
    assert len(sim.requests) == 3


@pytest.mark.parametrize(
    ("path", "status", "error", "operation"),
    [
        (SCHEDULE, 503, errors.ServerError, "GET integrationSchedule"),
        (SAVE_STATE, 503, errors.ServerError, "GET enabledIntegrationSaveState"),
        (SAVE_STATE, 403, errors.Forbidden, "GET enabledIntegrationSaveState"),
        (SCHEDULE, 404, errors.NotFound, "GET integrationSchedule"),
    ],
)
def test_either_call_failing_raises_its_own_typed_error_once_both_ended(
    sim: Simulator,
    make_client: MakeClient,
    path: str,
    status: int,
    error: type[errors.ApiError],
    operation: str,
) -> None:
    earlier = read_threads()
    client = make_client()
    # The other call is the slow one: the error must still wait for it to end.
    other = SAVE_STATE if path == SCHEDULE else SCHEDULE
    sim.inject(Fault("delay", method="GET", path_contains=other, delay=0.2))
    sim.inject(Fault("status", method="GET", path_contains=path, status=status, times=None))

    with pytest.raises(error) as caught:
        client.read_schedule()

    assert caught.value.operation == operation
    assert caught.value.status == status
    assert all(t.answered is not None for t in sim.timings)  # nothing left in flight
    sim.clear_faults()
    assert client.read_schedule().schedule == Schedule(True, True)
    client.close()
    assert read_threads() <= earlier


def test_a_bad_saved_state_answer_is_a_bad_response(
    sim: Simulator, client: CoursedogClient
) -> None:
    sim.inject(Fault("status", method="GET", path_contains=SAVE_STATE, status=200, body=[1]))

    with pytest.raises(errors.BadResponse, match="saved state"):
        client.read_schedule()


def test_when_both_calls_fail_the_schedule_read_is_the_error_raised(
    sim: Simulator, client: CoursedogClient
) -> None:
    client.read_schedule()
    sim.inject(Fault("status", method="GET", path_contains=SAVE_STATE, status=500, times=None))
    sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=503, times=None))

    with pytest.raises(errors.ServerError) as caught:
        client.read_schedule()

    assert (caught.value.operation, caught.value.status) == ("GET integrationSchedule", 503)


def test_both_calls_refused_at_once_log_in_again_only_once(
    sim: Simulator, client: CoursedogClient
) -> None:
    client.read_schedule()
    sim.latency = 0.05
    sim.revoke_sessions()  # both calls now carry a token Coursedog refuses

    assert client.read_schedule().save_state_id == "ss-1"
    assert sim.calls("POST", LOGIN) == 2


def test_both_calls_refused_try_one_fresh_login_and_raise_its_error(
    sim: Simulator, client: CoursedogClient
) -> None:
    client.read_schedule()
    sim.latency = 0.05
    sim.revoke_sessions()
    sim.users = {email: "rotated-elsewhere" for email in sim.users}

    with pytest.raises(errors.Unauthorized):
        client.read_schedule()

    assert sim.calls("POST", LOGIN) == 2  # the first login and one fresh try, not one per call
    sim.users = {email: PASSWORD for email in sim.users}
    assert client.read_schedule().save_state_id == "ss-1"  # the next read logs in again
    assert sim.calls("POST", LOGIN) == 3


def test_a_refused_login_is_raised_once_and_nothing_is_read(
    sim: Simulator, make_client: MakeClient
) -> None:
    client = make_client(password=PASSWORD + "-wrong")

    with pytest.raises(errors.Unauthorized):
        client.read_schedule()

    assert sim.requests == [("POST", "/api/v1/sessions")]


def test_read_switches_makes_one_call(sim: Simulator, client: CoursedogClient) -> None:
    client.write_schedule(Schedule(nightly=True, realtime=False))
    before = len(sim.requests)

    assert client.read_switches() == Schedule(nightly=True, realtime=False)
    assert sim.requests[before:] == [("GET", f"/api/v1/{SCHOOL}/general/{SCHEDULE}")]


def test_read_switches_raises_typed_errors(sim: Simulator, client: CoursedogClient) -> None:
    sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=503, times=None))
    with pytest.raises(errors.ServerError):
        client.read_switches()


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"syncType": "weekly", "nightlyStartTime": "01:30"}, "syncType is 'weekly'"),
        ({"nightlyStartTime": "01:30"}, "syncType is missing"),
    ],
)
def test_a_schedule_the_bot_does_not_know_is_an_error_carrying_what_was_said(
    sim: Simulator, client: CoursedogClient, answer: dict[str, object], said: str
) -> None:
    sim.set_school(SCHOOL, {"schedule_answer": answer})

    for read in (client.read_switches, client.read_schedule):
        with pytest.raises(errors.UnrecognisedSchedule) as caught:
            read()
        assert said in str(caught.value) and "does not recognise" in str(caught.value)
        assert caught.value.problem.startswith(said)
        assert caught.value.raw == {k: v for k, v in answer.items() if k == "syncType"}
        assert caught.value.operation == "GET integrationSchedule"


@pytest.mark.parametrize("sim", ["assumed"], indirect=True)  # the snapshot carries booleans
def test_a_write_over_the_snapshot_just_read_keeps_other_fields_without_reading_again(
    sim: Simulator, client: CoursedogClient
) -> None:
    sim.school(SCHOOL).extra_fields = {"nightlyStartTime": "01:30", "timezone": "UTC"}
    snapshot = client.read_schedule()
    before = len(sim.requests)

    client.write_schedule(ALL_OFF, over=snapshot)

    assert sim.requests[before:] == [("PUT", f"/api/v1/{SCHOOL}/general/{SCHEDULE}")]
    state = sim.school(SCHOOL)
    assert state.extra_fields == {"nightlyStartTime": "01:30", "timezone": "UTC"}
    assert (state.nightly, state.realtime) == (False, False)
    assert snapshot.schedule_object is not None
    assert snapshot.schedule_object.get("nightly") is True  # the snapshot itself is untouched


@pytest.mark.parametrize("over", [None, ScheduleSnapshot(Schedule(True, True), "ss-1")])
def test_a_write_with_nothing_read_reads_the_object_first(
    sim: Simulator, client: CoursedogClient, over: ScheduleSnapshot | None
) -> None:
    sim.school(SCHOOL).extra_fields = {"nightlyStartTime": "01:30"}

    client.write_schedule(ALL_OFF, over=over)

    assert sim.calls("GET", SCHEDULE) == 1
    assert sim.school(SCHOOL).extra_fields == {"nightlyStartTime": "01:30"}


def test_a_write_that_replaces_nothing_ignores_the_snapshot(
    sim: Simulator, make_client: MakeClient
) -> None:
    sim.school(SCHOOL).extra_fields = {"nightlyStartTime": "01:30"}
    client = make_client(wire=WireConfig(schedule_write_keeps_other_fields=False))
    snapshot = client.read_schedule()
    before = len(sim.requests)

    client.write_schedule(ALL_OFF, over=snapshot)

    assert sim.requests[before:] == [("PUT", f"/api/v1/{SCHOOL}/general/{SCHEDULE}")]
    assert sim.school(SCHOOL).extra_fields == {}


def test_close_ends_the_read_threads(sim: Simulator, make_client: MakeClient) -> None:
    earlier = read_threads()
    client = make_client()
    client.read_schedule()
    assert read_threads() - earlier

    client.close()

    assert read_threads() <= earlier
