"""The simulator on its own, spoken to with plain HTTP as a browser or a CLI would."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from coursedog import simulator as simulator_module
from coursedog import wire
from coursedog.simulator import SchoolState, Simulator, UnknownSchoolError, serve
from coursedog.simulator_faults import Fault
from tests.coursedog.conftest import EMAIL, PASSWORD, SCHOOL

SCHEDULE_PATH = f"/api/v1/{SCHOOL}/general/integrationSchedule"


@pytest.fixture
def http(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, timeout=2.0) as client:
        yield client


def login(http: httpx.Client, key: str = "plaintextPassword", password: str = PASSWORD) -> str:
    response = http.post("/api/v1/sessions", json={"email": EMAIL, key: password})
    assert response.status_code == 200, response.text
    return wire.token_from_wire(response.json())


@pytest.mark.parametrize("key", ["plaintextPassword", "password"])
def test_login_accepts_either_password_field(http: httpx.Client, key: str) -> None:
    assert login(http, key)


@pytest.mark.parametrize(
    "body",
    [{"email": EMAIL, "plaintextPassword": "nope"}, {"email": "x@y.edu", "password": PASSWORD}],
)
def test_wrong_credentials_get_401_with_a_json_error(
    http: httpx.Client, body: dict[str, str]
) -> None:
    response = http.post("/api/v1/sessions", json=body)
    assert response.status_code == 401
    assert response.json()["message"] == "invalid email or password"


@pytest.mark.parametrize("sim", ["assumed"], indirect=True)
def test_api_calls_need_a_token_in_the_header_or_the_cookie(http: httpx.Client) -> None:
    assert http.get(SCHEDULE_PATH).status_code == 401
    assert http.get(SCHEDULE_PATH, headers={"Authorization": "Bearer forged"}).status_code == 401
    token = login(http)
    assert http.get(SCHEDULE_PATH, headers={"Authorization": f"Bearer {token}"}).is_success
    reply = http.get(SCHEDULE_PATH, headers={"Cookie": f"token={token}"})
    assert reply.json() == {
        "integrationSchedule": {"syncType": "realtime", "nightly": True, "realtime": True}
    }


def test_reads_answer_only_what_has_been_seen_by_default(
    sim: Simulator, http: httpx.Client
) -> None:
    auth = {"Authorization": f"Bearer {login(http)}"}
    sim.school(SCHOOL).extra_fields = {"nightlyStartTime": "01:30"}
    expected = {
        (True, True): "realtime",
        (True, False): "nightly",
        (False, False): "none",
        (False, True): "realtime",  # syncType alone cannot say "real-time without nightly"
    }
    for (nightly, realtime), sync in expected.items():
        sim.set_school(SCHOOL, {"nightly": nightly, "realtime": realtime})
        assert http.get(SCHEDULE_PATH, headers=auth).json() == {
            "integrationSchedule": {"nightlyStartTime": "01:30", "syncType": sync}
        }
    saved = http.get(f"/api/v1/{SCHOOL}/general/enabledIntegrationSaveState", headers=auth)
    assert saved.json() == {"enabledIntegrationSaveState": {"integrationSaveStateId": "ss-1"}}
    assert http.get("/_sim/state").json()["shape"] == "seen"


@pytest.mark.parametrize("sim", ["assumed"], indirect=True)
def test_the_assumed_shape_also_answers_both_switches(sim: Simulator, http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {login(http)}"}
    sim.set_school(SCHOOL, {"nightly": False, "realtime": True})
    assert http.get(SCHEDULE_PATH, headers=auth).json() == {
        "integrationSchedule": {"syncType": "realtime", "nightly": False, "realtime": True}
    }
    saved = http.get(f"/api/v1/{SCHOOL}/general/enabledIntegrationSaveState", headers=auth)
    assert saved.json() == {"id": "ss-1"}


def test_writes_are_accepted_in_the_assumed_shape_by_default(
    sim: Simulator, http: httpx.Client
) -> None:
    auth = {"Authorization": f"Bearer {login(http)}"}
    body = {"integrationSchedule": {"syncType": "nightly", "nightly": True, "realtime": False}}
    assert http.put(SCHEDULE_PATH, json=body, headers=auth).status_code == 200
    assert http.get(SCHEDULE_PATH, headers=auth).json() == {
        "integrationSchedule": {"syncType": "nightly"}
    }
    with pytest.raises(ValueError, match="shape must be one of seen, assumed"):
        Simulator(shape="guessed")  # type: ignore[arg-type]


def test_a_simulator_may_take_the_password_under_one_key_only() -> None:
    users = {EMAIL: PASSWORD}
    with Simulator(users=users, password_fields=("password",)) as sim, httpx.Client() as http:
        url = f"{sim.base_url}/api/v1/sessions"
        refused = http.post(url, json={"email": EMAIL, "plaintextPassword": PASSWORD})
        assert refused.status_code == 400
        assert refused.json()["message"] == "bad login body: the password goes under password"
        assert http.post(url, json={"email": EMAIL, "password": PASSWORD}).is_success


def test_tokens_expire_after_a_day_of_simulator_time() -> None:
    now = [1000.0]
    sim = Simulator(users={EMAIL: PASSWORD}, clock=lambda: now[0], shape="assumed")
    with sim, httpx.Client(base_url=sim.base_url) as http:
        auth = {"Authorization": f"Bearer {login(http)}"}
        path = "/api/v1/demo_university/general/enabledIntegrationSaveState"
        now[0] += 24 * 3600 - 1
        assert http.get(path, headers=auth).json() == {"id": "ss-1"}
        now[0] += 1
        assert http.get(path, headers=auth).status_code == 401


def test_revoking_sessions_invalidates_issued_tokens(sim: Simulator, http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {login(http)}"}
    assert http.post("/_sim/revoke").json() == {"revoked": True}
    assert http.get(SCHEDULE_PATH, headers=auth).status_code == 401


def test_unknown_school_endpoint_and_method(http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {login(http)}"}
    assert http.get("/api/v1/nowhere/general/integrationSchedule", headers=auth).status_code == 404
    assert http.get("/api/v1/nothing/here", headers=auth).status_code == 404
    assert http.delete(SCHEDULE_PATH, headers=auth).status_code == 405


def test_bad_write_bodies_are_refused(sim: Simulator, http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {login(http)}"}
    for body in ({"syncType": "none"}, {"integrationSchedule": {"nightly": "no"}}):
        assert http.put(SCHEDULE_PATH, json=body, headers=auth).status_code == 400
    comment = f"/api/v1/{SCHOOL}/integration/mergeSettings/activity"
    assert http.post(comment, json={"comment": ""}, headers=auth).status_code == 400
    assert sim.school(SCHOOL).writes == 0


def test_control_state_and_school_settings(sim: Simulator, http: httpx.Client) -> None:
    changed = http.post(f"/_sim/schools/{SCHOOL}", json={"realtime": False, "locked": True})
    assert changed.status_code == 200
    created = http.post("/_sim/schools/new_u", json={"save_state_id": "ss-9"})
    assert created.json()["save_state_id"] == "ss-9"

    state = http.get("/_sim/state").json()

    assert state["schools"][SCHOOL]["realtime"] is False
    assert state["schools"][SCHOOL]["locked"] is True
    assert state["schools"]["new_u"]["nightly"] is True
    assert sim.school("new_u").save_state_id == "ss-9"
    assert http.post(f"/_sim/schools/{SCHOOL}", json={"nightly": "no"}).status_code == 400
    assert http.post(f"/_sim/schools/{SCHOOL}", json={"colour": "red"}).status_code == 400


def test_control_calls_allow_other_origins(http: httpx.Client) -> None:
    preflight = http.options("/_sim/faults")
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert http.get("/_sim/state").headers["Access-Control-Allow-Origin"] == "*"
    assert http.options(SCHEDULE_PATH).status_code == 405


def test_control_faults(sim: Simulator, http: httpx.Client) -> None:
    fault = {"kind": "status", "method": "get", "path_contains": "integrationSchedule",
             "status": 503, "retry_after": "5", "times": 2}  # fmt: skip
    assert http.post("/_sim/faults", json=fault).status_code == 201
    assert http.get("/_sim/state").json()["faults"][0]["remaining"] == 2

    first = http.get(SCHEDULE_PATH)
    assert (first.status_code, first.headers["Retry-After"]) == (503, "5")
    assert http.get(SCHEDULE_PATH).status_code == 503
    assert http.get(SCHEDULE_PATH).status_code == 401  # used up: back to normal handling

    assert http.post("/_sim/faults", json={"kind": "status", "times": None}).status_code == 201
    assert http.delete("/_sim/faults").json() == {"faults": []}
    assert http.post("/_sim/faults", json={"kind": "explode"}).status_code == 400
    assert http.post("/_sim/faults", json={"kind": "delay", "speed": 1}).status_code == 400


def test_control_merge_history_and_latency(sim: Simulator, http: httpx.Client) -> None:
    item = wire.merge_report_item("r-1", "success", "nightly")
    assert http.post(f"/_sim/merge-history/{SCHOOL}", json=item).status_code == 201
    assert sim.school(SCHOOL).merge_history == [item]
    assert http.post(f"/_sim/merge-history/{SCHOOL}", json={"x": 1}).status_code == 400
    assert http.post("/_sim/merge-history/nowhere", json=item).status_code == 404

    assert http.post("/_sim/latency", json={"latency": 0.04}).json() == {"latency": 0.04}
    started = time.perf_counter()
    http.get(SCHEDULE_PATH)
    assert time.perf_counter() - started >= 0.04
    assert http.post("/_sim/latency", json={"latency": -1}).status_code == 400
    assert http.get("/_sim/nothing").status_code == 404


def test_delay_fault_slows_one_request(sim: Simulator, http: httpx.Client) -> None:
    sim.inject(Fault("delay", path_contains="integrationSchedule", delay=0.04))
    started = time.perf_counter()
    assert http.get(SCHEDULE_PATH).status_code == 401
    assert time.perf_counter() - started >= 0.04


def test_requests_are_recorded_and_counted(sim: Simulator, http: httpx.Client) -> None:
    http.get(f"{SCHEDULE_PATH}?x=1")
    http.get("/_sim/state")
    assert sim.requests == [("GET", SCHEDULE_PATH), ("GET", "/_sim/state")]
    assert sim.calls("GET", "integrationSchedule") == 1


def test_school_accessor_names_known_schools(sim: Simulator) -> None:
    with pytest.raises(UnknownSchoolError, match=f"no school 'x' \\(known: .*{SCHOOL}"):
        sim.school("x")


def test_lifecycle_guards() -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = sim.base_url
    sim.stop()  # stopping a stopped simulator is harmless
    with sim, pytest.raises(RuntimeError, match="already running"):
        sim.start()
    assert sim.start().startswith("http://127.0.0.1:")
    sim.stop()


def test_serve_prints_the_url_serves_and_stops_on_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: list[int] = []

    def interrupt_after_one_request() -> None:
        url = capsys.readouterr().out.split()[3]
        answers.append(httpx.get(f"{url}/_sim/state").status_code)
        raise KeyboardInterrupt

    monkeypatch.setattr(simulator_module, "_block", interrupt_after_one_request)
    serve("127.0.0.1", 0, schools={"u_a": SchoolState()}, users={EMAIL: PASSWORD})

    assert answers == [200]
    assert "Stopping" in capsys.readouterr().out
    assert not [t for t in threading.enumerate() if t.name == "coursedog-simulator"]
