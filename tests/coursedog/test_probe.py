"""The read-only probe behind `sis-maint coursedog check`, on its own against the simulator."""

from __future__ import annotations

import pytest

from coursedog import wire
from coursedog.client import CoursedogClient
from coursedog.probe import FieldReading, probe
from coursedog.simulator import Simulator
from coursedog.simulator_faults import Fault
from coursedog.wire import WireConfig
from tests.coursedog.conftest import SCHOOL, MakeClient

SAVE_STATE = "enabledIntegrationSaveState"


def test_every_read_is_made_once_and_nothing_is_written(
    sim: Simulator, client: CoursedogClient
) -> None:
    found = probe(client, history_size=2)

    assert found.understood and (found.host, found.school) == (client.host, SCHOOL)
    assert [r.name for r in found.reads] == [
        "read_schedule",
        "read_save_state",
        "merge_history nightly",
        "merge_history realtime",
        "merge_history manual",
    ]
    assert all(r.status == 200 and r.seconds >= 0 for r in found.reads)
    assert found.reads[0].path == f"/api/v1/{SCHOOL}/general/integrationSchedule"
    assert {m for m, _ in sim.requests} == {"POST", "GET"}
    assert sim.calls("POST", "/sessions") == 1 and len(sim.requests) == 6


@pytest.mark.parametrize(
    ("body", "reading", "fields"),
    [
        (
            {SAVE_STATE: "ss-9"},
            "saved state ss-9 is enabled",
            [(SAVE_STATE, '"ss-9"', True)],
        ),
        (
            {"_id": "ss-3", "name": "Fall"},
            "saved state ss-3 is enabled",
            [("_id", '"ss-3"', True), ("name", '"Fall"', False)],
        ),
    ],
)
def test_the_saved_state_fields_say_which_one_the_bot_reads(
    sim: Simulator,
    client: CoursedogClient,
    body: dict[str, object],
    reading: str,
    fields: list[tuple[str, str, bool]],
) -> None:
    sim.inject(Fault("status", method="GET", path_contains=SAVE_STATE, status=200, body=body))

    read = probe(client).reads[1]

    assert read.understood and read.reading == reading
    said = [(f.name, f.answered, f.reading == "the enabled saved state's id") for f in read.fields]
    assert said == fields


def test_a_configured_sync_type_is_said_to_be_configured(
    sim: Simulator, make_client: MakeClient
) -> None:
    sim.set_school(SCHOOL, {"schedule_answer": {"syncType": "merges-off"}})
    client = make_client(wire=WireConfig(sync_type_off="merges-off"))

    read = probe(client).reads[0]

    assert read.understood
    assert read.fields[0] == FieldReading(
        "syncType",
        '"merges-off"',
        "nightly off, real-time off (as configured in sync_type_off)",
        True,
    )


def test_merge_items_are_read_one_by_one(sim: Simulator, client: CoursedogClient) -> None:
    sim.add_merge_item(SCHOOL, wire.merge_report_item("r-1", "mystery", "manual"))
    sim.school(SCHOOL).merge_history.insert(0, {"scheduleType": "manual", "oddity": True})

    read = probe(client).reads[4]

    assert not read.understood and read.reading == "2 items"
    assert [f.known for f in read.fields] == [False, True]
    assert read.fields[1].reading == "manual merge failed (mystery), report r-1"
