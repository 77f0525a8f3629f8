"""The client writing through a learned contract, against a simulator serving that contract."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from coursedog.contract import WriteContract
from coursedog.errors import ScheduleNotLearned
from coursedog.models import ALL_OFF, Schedule
from coursedog.simulator import Simulator
from tests.coursedog.conftest import SCHOOL, MakeClient
from tests.coursedog.test_contract import fields_alone, settings_contract

ON = Schedule(nightly=True, realtime=True)
NIGHTLY = Schedule(nightly=True, realtime=False)
SETTINGS = f"/api/v1/{SCHOOL}/settings"
SAVE = f"/api/v1/{SCHOOL}/settings/save"
ASSUMED = f"/api/v1/{SCHOOL}/general/integrationSchedule"


def assumed_shape() -> dict[str, Any]:
    """A contract of the assumed shape: PUT the schedule read's object back, syncType only."""
    doc = settings_contract()
    doc["schedule"] |= {
        "method": "PUT",
        "path": "/api/v1/{school}/general/integrationSchedule",
        "base": {"path": "/api/v1/{school}/general/integrationSchedule",
                 "pointer": "/integrationSchedule"},
        "wrap": "/integrationSchedule",
    }  # fmt: skip
    doc["schedule"]["fields"][0]["pointer"] = "/integrationSchedule/syncType"
    doc["comment"] = None
    return doc


@pytest.fixture
def learned_sim(sim: Simulator) -> Simulator:
    sim.set_contract(WriteContract.from_json(settings_contract()))
    sim.set_school(SCHOOL, {"contract_base": {"timezone": "America/Chicago", "termCode": "1"}})
    return sim


def test_a_write_goes_on_the_learned_path_over_a_fresh_read(
    learned_sim: Simulator, make_client: MakeClient
) -> None:
    client = make_client(contract=WriteContract.from_json(settings_contract()))
    before = client.read_schedule()
    # Someone changes another setting after the read: the write must not undo it.
    learned_sim.set_school(SCHOOL, {"contract_base": {"timezone": "UTC", "termCode": "2"}})
    client.write_schedule(ALL_OFF, over=before)
    assert client.read_switches() == ALL_OFF
    school = learned_sim.school(SCHOOL)
    assert school.contract_base == {
        "timezone": "UTC",
        "termCode": "2",
        "integrationSchedule": {"syncType": "none"},
    }
    assert learned_sim.calls("GET", SETTINGS) == 1 and learned_sim.calls("POST", SAVE) == 1
    assert learned_sim.calls("PUT", ASSUMED) == 0
    client.write_schedule(ON)
    assert (school.nightly, school.realtime, school.writes) == (True, True, 2)


def test_a_schedule_the_recording_never_showed_is_refused_before_anything_is_sent(
    learned_sim: Simulator, make_client: MakeClient
) -> None:
    client = make_client(contract=WriteContract.from_json(settings_contract()))
    client.read_schedule()
    sent = len(learned_sim.requests)
    with pytest.raises(ScheduleNotLearned) as caught:
        client.write_schedule(NIGHTLY)
    assert len(learned_sim.requests) == sent
    message = str(caught.value)
    assert "Nothing was sent to Coursedog" in message and f"(school {SCHOOL})" in message
    assert "has no body for nightly on, real-time off" in message
    assert "only for nightly off, real-time off; nightly on, real-time on" in message
    assert caught.value.schedule == NIGHTLY and caught.value.learned == (ALL_OFF, ON)


def test_the_snapshot_just_read_serves_as_the_base_when_it_is_the_schedule_read(
    sim: Simulator, make_client: MakeClient
) -> None:
    contract = WriteContract.from_json(assumed_shape())
    sim.set_contract(contract)
    client = make_client(contract=contract)
    snapshot = client.read_schedule()
    reads = sim.calls("GET", ASSUMED)
    client.write_schedule(ALL_OFF, over=snapshot)
    assert sim.calls("GET", ASSUMED) == reads, "no second read for the base"
    assert sim.school(SCHOOL).schedule == ALL_OFF
    client.write_schedule(ON)  # no snapshot given: the base is read first
    assert sim.calls("GET", ASSUMED) == reads + 1
    assert sim.school(SCHOOL).schedule == ON


def test_the_comment_goes_as_learned(learned_sim: Simulator, make_client: MakeClient) -> None:
    client = make_client(contract=WriteContract.from_json(settings_contract()))
    client.post_activity_comment("Integration off for the Banner patch (MW-3)")
    assert learned_sim.school(SCHOOL).comments == ["Integration off for the Banner patch (MW-3)"]
    assert learned_sim.calls("POST", f"/api/v1/{SCHOOL}/activity") == 1


def test_without_a_learned_comment_the_comment_is_the_assumed_call(
    sim: Simulator, make_client: MakeClient
) -> None:
    contract = WriteContract.from_json(assumed_shape())
    sim.set_contract(contract)
    make_client(contract=contract).post_activity_comment("Back on")
    assert sim.calls("POST", "/integration/mergeSettings/activity") == 1


def test_without_a_contract_the_client_writes_the_assumed_way(
    sim: Simulator, make_client: MakeClient
) -> None:
    make_client().write_schedule(ALL_OFF)
    assert sim.calls("PUT", ASSUMED) == 1 and sim.school(SCHOOL).schedule == ALL_OFF


def test_the_simulator_refuses_a_body_that_does_not_follow_the_contract(
    learned_sim: Simulator, make_client: MakeClient
) -> None:
    client = make_client()  # writes the assumed way, the simulator expects the contract
    with pytest.raises(Exception, match="405"):
        client.write_schedule(ALL_OFF)
    http = httpx.Client(base_url=learned_sim.base_url, timeout=5)
    token = learned_sim.issue_token(*next(iter(learned_sim.users.items())))
    headers = {"Authorization": f"Bearer {token}"}
    wrong: dict[str, Any] = {"settings": {"integrationSchedule": {"syncType": "hourly"}}}
    answer = http.post(SAVE, json=wrong, headers=headers)
    assert answer.status_code == 400
    assert "does not follow the write contract" in answer.json()["message"]
    comment = http.post(f"/api/v1/{SCHOOL}/activity", json={"text": "hi"}, headers=headers)
    assert comment.status_code == 400
    assert learned_sim.school(SCHOOL).writes == 0
    http.close()


def test_the_contract_is_set_and_cleared_by_a_control_call(sim: Simulator) -> None:
    http = httpx.Client(base_url=sim.base_url, timeout=5)
    doc = settings_contract()
    assert http.post("/_sim/contract", json=doc).status_code == 200
    assert http.get("/_sim/state").json()["contract"] == doc
    broken = copy.deepcopy(doc)
    broken["schedule"]["method"] = "GET"
    refused = http.post("/_sim/contract", json=broken)
    assert refused.status_code == 400 and "schedule.method" in refused.json()["message"]
    assert http.post("/_sim/contract", content="null").status_code == 200
    assert http.get("/_sim/state").json()["contract"] is None
    http.close()


def test_the_switch_fields_alone_are_sent_without_reading_anything(
    sim: Simulator, make_client: MakeClient
) -> None:
    contract = WriteContract.from_json(fields_alone())
    sim.set_contract(contract)
    client = make_client(contract=contract)
    client.write_schedule(ALL_OFF)
    assert sim.requests[-1] == ("PATCH", f"/api/v1/{SCHOOL}/settings/save")
    assert [m for m, _ in sim.requests] == ["POST", "PATCH"]  # the login, then the write alone
    assert sim.school(SCHOOL).schedule == ALL_OFF
