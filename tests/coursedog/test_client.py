"""The client against the simulator over real HTTP: sessions, reads, writes, errors."""

from __future__ import annotations

import logging
import threading

import httpx
import pytest

from coursedog import errors, wire
from coursedog.client import CoursedogClient
from coursedog.models import ALL_OFF, MergeRun, Schedule
from coursedog.simulator import SchoolState, Simulator
from coursedog.simulator_faults import Fault
from coursedog.wire import WireConfig
from tests.coursedog.conftest import EMAIL, LOCKED_SCHOOL, PASSWORD, SCHOOL, MakeClient

LOGIN = "/sessions"
SCHEDULE = "integrationSchedule"


def test_turns_schedules_off_and_reads_the_new_value_back(
    sim: Simulator, client: CoursedogClient
) -> None:
    before = client.read_schedule()
    assert before.schedule == Schedule(nightly=True, realtime=True)
    assert before.save_state_id == "ss-1"

    client.write_schedule(ALL_OFF)

    assert client.read_schedule().schedule.is_off()
    assert sim.school(SCHOOL).writes == 1
    assert sim.calls("POST", LOGIN) == 1


def test_writing_the_same_value_twice_leaves_it_unchanged(
    sim: Simulator, client: CoursedogClient
) -> None:
    client.write_schedule(Schedule(nightly=True, realtime=False))
    client.write_schedule(Schedule(nightly=True, realtime=False))

    state = sim.school(SCHOOL)
    assert (state.nightly, state.realtime, state.writes) == (True, False, 2)


@pytest.mark.parametrize("password_field", ["plaintextPassword", "password"])
def test_logs_in_with_either_password_spelling(
    sim: Simulator, make_client: MakeClient, password_field: str
) -> None:
    client = make_client(wire=WireConfig(password_field=password_field))

    assert client.read_schedule().schedule == Schedule(True, True)
    assert sim.calls("POST", LOGIN) == 1


def test_sends_the_token_as_bearer_header_and_cookie(sim: Simulator, waits: list[float]) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [seen.append]}) as http:
        client = CoursedogClient(
            base_url=sim.base_url, school=SCHOOL, email=EMAIL, password=PASSWORD, http=http
        )
        client.read_schedule()
        client.close()
        assert not http.is_closed  # an injected client belongs to the caller

    api_call = seen[1]
    token = api_call.headers["Authorization"].removeprefix("Bearer ")
    assert token in sim.issued_tokens()
    assert api_call.headers["Cookie"] == f"token={token}"
    assert "Authorization" not in seen[0].headers


def test_refused_session_triggers_one_new_login(sim: Simulator, client: CoursedogClient) -> None:
    sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=401))

    assert client.read_schedule().schedule == Schedule(True, True)
    assert sim.calls("POST", LOGIN) == 2


def test_session_refused_again_after_new_login_raises_unauthorized(
    sim: Simulator, client: CoursedogClient
) -> None:
    sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=401, times=2))

    with pytest.raises(errors.Unauthorized) as caught:
        client.read_schedule()
    assert caught.value.status == 401
    assert sim.calls("POST", LOGIN) == 2


def test_sessions_revoked_by_a_web_login_are_replaced(
    sim: Simulator, client: CoursedogClient
) -> None:
    client.read_schedule()
    sim.revoke_sessions()

    client.write_schedule(ALL_OFF)

    assert sim.school(SCHOOL).writes == 1
    assert sim.calls("POST", LOGIN) == 2


def test_wrong_password_raises_unauthorized_naming_account_but_not_secret(
    sim: Simulator, make_client: MakeClient, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-Zx81-secret"
    client = make_client(password=wrong)

    with caplog.at_level(logging.DEBUG), pytest.raises(errors.Unauthorized) as caught:
        client.read_schedule()

    message = str(caught.value)
    assert EMAIL in message and "127.0.0.1" in message
    for text in (message, repr(caught.value), repr(client), caplog.text):
        assert wrong not in text
    assert waits == []


def test_no_secret_reaches_messages_reprs_or_logs(
    sim: Simulator, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    client = make_client(http=http)
    failures: list[errors.CoursedogError] = []
    echo = {"message": f"bad request with password {PASSWORD}"}
    with caplog.at_level(logging.DEBUG):
        client.read_schedule()
        sim.revoke_sessions()
        sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=500))
        client.read_schedule()
        sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=400, body=echo))
        for action in (client.read_schedule, lambda: client.merge_history("bogus_type")):
            try:
                action()
            except errors.CoursedogError as exc:
                failures.append(exc)
            except ValueError:
                pass
        with pytest.raises(errors.SettingsLocked) as locked:
            make_client(school=LOCKED_SCHOOL, http=http).write_schedule(ALL_OFF)
        failures.append(locked.value)
    http.close()

    tokens = {r.headers["Authorization"][7:] for r in sent if "Authorization" in r.headers}
    assert len(tokens) == 3
    texts = [caplog.text, repr(client)] + [f"{exc!s} {exc!r}" for exc in failures]
    assert "***" in str(failures[0])
    for secret in (PASSWORD, *tokens):
        assert all(secret not in text for text in texts)


def test_one_client_shared_by_threads_logs_in_once(sim: Simulator, client: CoursedogClient) -> None:
    sim.latency = 0.03  # long enough for every thread to be waiting on the first login
    start = threading.Barrier(8)
    results: list[Schedule] = []

    def work() -> None:
        start.wait()
        results.append(client.read_schedule().schedule)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert results == [Schedule(True, True)] * 8
    assert sim.calls("POST", LOGIN) == 1


def test_locked_school_refuses_writes_with_settings_locked(
    sim: Simulator, make_client: MakeClient
) -> None:
    client = make_client(school=LOCKED_SCHOOL)
    assert client.read_schedule().schedule == Schedule(True, True)

    with pytest.raises(errors.SettingsLocked) as caught:
        client.write_schedule(ALL_OFF)
    with pytest.raises(errors.SettingsLocked):
        client.post_activity_comment("Integration off for SIS maintenance")

    assert caught.value.status == 403
    assert "locked" in str(caught.value) and LOCKED_SCHOOL in str(caught.value)
    state = sim.school(LOCKED_SCHOOL)
    assert (state.nightly, state.realtime, state.writes, state.comments) == (True, True, 0, [])


def test_unknown_school_raises_not_found(make_client: MakeClient) -> None:
    with pytest.raises(errors.NotFound) as caught:
        make_client(school="no_such_school").read_schedule()
    assert str(caught.value).startswith("Coursedog at 127.0.0.1:")
    assert "404 for GET integrationSchedule (school no_such_school)" in str(caught.value)


def test_activity_comment_is_recorded(sim: Simulator, client: CoursedogClient) -> None:
    client.post_activity_comment("Integration off for the Banner patch (ticket 4711)")

    assert sim.school(SCHOOL).comments == ["Integration off for the Banner patch (ticket 4711)"]
    with pytest.raises(ValueError, match="empty"):
        client.post_activity_comment("  ")


def test_merge_history_newest_first_with_running_and_failed(
    sim: Simulator, client: CoursedogClient
) -> None:
    sim.add_merge_item(SCHOOL, wire.merge_report_item("r-1", "failed", "nightly", "2026-03-01"))
    sim.add_merge_item(SCHOOL, wire.merge_report_item("r-2", "noData", "realtime"))
    sim.add_merge_item(SCHOOL, wire.merge_report_item("r-3", "finishedWithIssues", "nightly"))
    sim.add_merge_item(SCHOOL, wire.in_progress_item("job-9", "nightly"))

    runs = client.merge_history("nightly", size=5)

    assert runs == [
        MergeRun(
            None,
            "nightly",
            "running",
            None,
            job_id="job-9",
            job_name="merge-job-9",
            job_status="RUNNING",
        ),
        MergeRun("r-3", "nightly", "finishedWithIssues", True),
        MergeRun("r-1", "nightly", "failed", False, "2026-03-01"),
    ]
    assert [r.id for r in client.merge_history("realtime")] == ["r-2"]
    assert client.merge_history("nightly", size=1)[0].running
    with pytest.raises(ValueError, match="schedule_type"):
        client.merge_history("weekly")


def test_write_keeps_other_fields_of_the_schedule_object(
    sim: Simulator, make_client: MakeClient
) -> None:
    sim.school(SCHOOL).extra_fields = {"nightlyStartTime": "01:30"}
    make_client().write_schedule(ALL_OFF)
    assert sim.school(SCHOOL).extra_fields == {"nightlyStartTime": "01:30"}

    make_client(wire=WireConfig(schedule_write_keeps_other_fields=False)).write_schedule(ALL_OFF)
    assert sim.school(SCHOOL).extra_fields == {}


def test_sync_type_only_wire_round_trips_through_the_simulator() -> None:
    cfg = WireConfig(nightly_field="", realtime_field="")
    users = {EMAIL: PASSWORD}
    with Simulator(users=users, schools={SCHOOL: SchoolState()}, wire=cfg) as sim:
        client = CoursedogClient(
            base_url=sim.base_url, school=SCHOOL, email=EMAIL, password=PASSWORD, wire=cfg
        )
        with client:
            for schedule in (ALL_OFF, Schedule(True, False), Schedule(True, True)):
                client.write_schedule(schedule)
                assert client.read_schedule().schedule == schedule
            # With only syncType on the wire, real-time implies nightly.
            client.write_schedule(Schedule(nightly=False, realtime=True))
            assert client.read_schedule().schedule == Schedule(True, True)


@pytest.mark.parametrize(
    ("body", "detail"),
    [({"integrationSchedule": "realtime"}, "no integrationSchedule object"), ("<html>", "JSON")],
)
def test_unexpected_answer_shape_raises_bad_response(
    sim: Simulator, client: CoursedogClient, body: dict[str, object] | str, detail: str
) -> None:
    sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=200, body=body))
    with pytest.raises(errors.BadResponse, match=detail):
        client.read_schedule()


def test_links_into_the_web_app(make_client: MakeClient) -> None:
    client = make_client(base_url="https://app.coursedog.com")
    assert client.merge_report_url("r-3") == (
        f"https://app.coursedog.com/#/int/{SCHOOL}/merge-history/r-3"
    )
    assert client.merge_settings_url().startswith(f"https://app.coursedog.com/#/int/{SCHOOL}/")
    assert repr(client) == f"CoursedogClient(host='app.coursedog.com', school='{SCHOOL}')"


def test_base_url_may_carry_a_path_prefix(sim: Simulator, make_client: MakeClient) -> None:
    client = make_client(base_url=sim.base_url + "/prefix/")
    with pytest.raises(errors.NotFound):
        client.read_schedule()
    assert sim.requests[0] == ("POST", "/prefix/api/v1/sessions")


@pytest.mark.parametrize(("base_url", "school"), [("app.coursedog.com", SCHOOL), ("https://x", "")])
def test_rejects_bad_construction(base_url: str, school: str) -> None:
    with pytest.raises(ValueError):
        CoursedogClient(base_url=base_url, school=school, email=EMAIL, password=PASSWORD)
