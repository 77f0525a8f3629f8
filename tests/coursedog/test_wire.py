"""The wire module: the one place that knows Coursedog's paths, field names and shapes."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from coursedog import wire
from coursedog.models import ALL_OFF, MergeRun, Schedule
from coursedog.wire import WireConfig

NO_FLAGS = WireConfig(nightly_field="", realtime_field="")


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"syncType": "realtime"}, Schedule(True, True)),
        ({"syncType": "RealTime "}, Schedule(True, True)),
        ({"syncType": "nightly"}, Schedule(True, False)),
        ({"syncType": "none"}, ALL_OFF),
        # Explicit booleans win over syncType, each on its own.
        ({"syncType": "realtime", "nightly": False, "realtime": True}, Schedule(False, True)),
        ({"syncType": "none", "nightly": True, "realtime": False}, Schedule(True, False)),
        ({"syncType": "realtime", "realtime": False}, Schedule(True, False)),
        ({"syncType": "nightly", "realtime": True}, Schedule(True, True)),
        ({"syncType": "nightly", "nightly": None}, Schedule(True, False)),
    ],
)
def test_schedule_from_wire(obj: dict[str, Any], expected: Schedule) -> None:
    assert wire.schedule_from_wire(obj) == expected


@pytest.mark.parametrize(
    ("obj", "said"),
    [
        ({"syncType": "manual"}, "syncType is 'manual'"),
        ({"syncType": "off", "other": 1}, "syncType is 'off'"),
        ({"syncType": None}, "syncType is missing"),
        ({}, "syncType is missing"),
        ({"nightly": False, "realtime": False}, "syncType is missing"),
        ({"syncType": 3}, "syncType is 3"),
        ({"syncType": "nightly", "nightly": "yes"}, "nightly is not a boolean"),
    ],
)
def test_an_unknown_or_missing_sync_type_is_never_read_as_off(
    obj: dict[str, Any], said: str
) -> None:
    with pytest.raises(wire.UnknownSchedule) as caught:
        wire.schedule_from_wire(obj)
    assert said in str(caught.value)
    if "syncType" in said:
        assert "(it knows 'realtime', 'nightly', 'none')" in str(caught.value)
    # What Coursedog said, as it said it, for a person to see; nothing else of the object.
    assert caught.value.raw == {k: v for k, v in obj.items() if k != "other"}


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (Schedule(True, True), {"syncType": "realtime", "nightly": True, "realtime": True}),
        (Schedule(True, False), {"syncType": "nightly", "nightly": True, "realtime": False}),
        (Schedule(False, True), {"syncType": "realtime", "nightly": False, "realtime": True}),
        (ALL_OFF, {"syncType": "none", "nightly": False, "realtime": False}),
    ],
)
def test_schedule_to_wire(schedule: Schedule, expected: dict[str, Any]) -> None:
    assert wire.schedule_to_wire(schedule) == expected
    assert wire.schedule_from_wire(expected) == schedule


def test_schedule_to_wire_honours_overridden_names_and_keeps_other_fields() -> None:
    cfg = WireConfig(sync_type_off="disabled", nightly_field="isNightly", realtime_field="")
    current = {"syncType": "realtime", "nightlyStartTime": "01:30", "isNightly": True}

    out = wire.schedule_to_wire(ALL_OFF, cfg, current)

    assert out == {"syncType": "disabled", "nightlyStartTime": "01:30", "isNightly": False}
    assert current["isNightly"] is True  # the input is not changed
    assert wire.schedule_from_wire(out, cfg) == ALL_OFF


def test_sync_type_only_wire_cannot_express_real_time_without_nightly() -> None:
    out = wire.schedule_to_wire(Schedule(nightly=False, realtime=True), NO_FLAGS)
    assert out == {"syncType": "realtime"}
    assert wire.schedule_from_wire(out, NO_FLAGS) == Schedule(True, True)


@pytest.mark.parametrize(
    "obj", [None, "realtime", ["realtime"], {"syncType": 3}, {"nightly": "yes"}]
)
def test_schedule_from_wire_refuses_odd_shapes(obj: object) -> None:
    with pytest.raises(ValueError):
        wire.schedule_from_wire(obj)


def test_schedule_object_is_wrapped_and_unwrapped_under_its_key() -> None:
    body = wire.schedule_reply({"syncType": "nightly"})
    assert body == {"integrationSchedule": {"syncType": "nightly"}}
    assert wire.schedule_object_from_reply(body) == {"syncType": "nightly"}
    with pytest.raises(ValueError, match="integrationSchedule"):
        wire.schedule_object_from_reply({"syncType": "nightly"})


@pytest.mark.parametrize(
    ("reply", "token"),
    [({"token": "t1"}, "t1"), ({"accessToken": "t2"}, "t2"), ({"data": {"token": "t3"}}, "t3")],
)
def test_token_from_wire(reply: dict[str, Any], token: str) -> None:
    assert wire.token_from_wire(reply) == token


@pytest.mark.parametrize("reply", [{}, {"token": ""}, {"token": 5}, "t", None, {"data": "t"}])
def test_token_from_wire_refuses_replies_without_token(reply: object) -> None:
    with pytest.raises(ValueError, match="no token"):
        wire.token_from_wire(reply)


def test_login_body_uses_the_configured_password_field() -> None:
    assert wire.login_body("a@b.edu", "pw") == {"email": "a@b.edu", "plaintextPassword": "pw"}
    cfg = WireConfig(password_field="password")
    assert wire.login_body("a@b.edu", "pw", cfg) == {"email": "a@b.edu", "password": "pw"}


@pytest.mark.parametrize("key", ["plaintextPassword", "password"])
def test_credentials_from_wire_accepts_both_spellings(key: str) -> None:
    assert wire.credentials_from_wire({"email": "a@b.edu", key: "pw"}) == ("a@b.edu", "pw")


@pytest.mark.parametrize("body", [{"email": "a@b.edu"}, {"plaintextPassword": "pw"}, []])
def test_credentials_from_wire_refuses_incomplete_bodies(body: object) -> None:
    with pytest.raises(ValueError):
        wire.credentials_from_wire(body)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("ss-1", "ss-1"),
        ({"id": "ss-2"}, "ss-2"),
        ({"_id": "ss-3", "name": "Spring"}, "ss-3"),
        ({"integrationSaveStateId": "ss-4"}, "ss-4"),
        ({"enabledIntegrationSaveState": {"_id": "ss-5"}}, "ss-5"),
        ({"enabledIntegrationSaveState": "ss-6"}, "ss-6"),
        (None, None),
        ("", None),
    ],
)
def test_save_state_id_from_wire(reply: object, expected: str | None) -> None:
    assert wire.save_state_id_from_wire(reply) == expected


@pytest.mark.parametrize("reply", [{}, {"id": 7}, 7, ["ss-1"]])
def test_save_state_id_from_wire_refuses_odd_shapes(reply: object) -> None:
    with pytest.raises(ValueError):
        wire.save_state_id_from_wire(reply)


def test_merge_runs_from_wire_reads_reports_and_running_jobs() -> None:
    answer = {
        "items": [
            {"inProgressMerge": {"awsJobStatus": "RUNNABLE", "awsJobId": "j"}, "date": "d0"},
            {"mergeReport": {"_id": "r2", "status": "success", "date": "d2"}},
            {"mergeReport": {"id": "r1", "status": "noData"}, "scheduleType": "manual"},
            {"mergeReport": {"id": "r0", "status": "error"}},
        ]
    }
    assert wire.merge_runs_from_wire(answer, "nightly") == [
        MergeRun(None, "nightly", "running", None, "d0", job_id="j", job_status="RUNNABLE"),
        MergeRun("r2", "nightly", "success", True, "d2"),
        MergeRun("r1", "manual", "noData", True),
        MergeRun("r0", "nightly", "error", False),
    ]


@pytest.mark.parametrize("answer", [{}, {"items": {}}, {"items": [3]}, {"items": [{"x": 1}]}])
def test_merge_runs_from_wire_refuses_odd_shapes(answer: object) -> None:
    with pytest.raises(ValueError):
        wire.merge_runs_from_wire(answer, "nightly")


def test_merge_item_builders_parse_back() -> None:
    items = [
        wire.in_progress_item("j1", "realtime"),
        wire.merge_report_item("r1", "finishedWithIssues", "realtime", "2026-01-02"),
    ]
    runs = wire.merge_runs_from_wire({"items": items}, "nightly")
    assert [(r.id, r.schedule_type, r.succeeded) for r in runs] == [
        (None, "realtime", None),
        ("r1", "realtime", True),
    ]
    params = wire.merge_history_params("realtime", 3)
    assert params == {"page": 1, "size": 3, "scheduleType": "realtime", "entityType": "sections"}


def test_links() -> None:
    assert wire.merge_report_link("app.coursedog.com", "u_x", "r9") == (
        "https://app.coursedog.com/#/int/u_x/merge-history/r9"
    )
    cfg = WireConfig(merge_settings_url="https://{host}/#/admin/{school}/merge")
    assert wire.merge_settings_link("h", "u_x", cfg) == "https://h/#/admin/u_x/merge"


def test_operation_label_names_the_last_path_segment() -> None:
    assert wire.operation_label("GET", WireConfig().schedule_read_path) == "GET integrationSchedule"
    assert wire.operation_label("POST", "/api/v1/sessions/") == "POST sessions"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schedule_write_path": "api/v1/{school}/x"}, "schedule_write_path must start with '/'"),
        ({"comment_path": "/api/v1/activity"}, "comment_path must contain '{school}'"),
        ({"schedule_write_method": "GET"}, "schedule_write_method must be one of"),
        ({"merge_report_url": "https://{host}/{school}/{report}"}, "unknown placeholder"),
        ({"schedule_key": ""}, "schedule_key must not be empty"),
        ({"sync_type_realtime": ""}, "sync_type_realtime must not be empty"),
        ({"schedule_read_path": "/api/{host}/{school}"}, "unknown placeholder"),
    ],
)
def test_wire_config_refuses_bad_values_naming_the_key(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        WireConfig(**overrides)


def test_wire_config_from_mapping() -> None:
    cfg = WireConfig.from_mapping({"password_field": "password", "schedule_write_method": "POST"})
    assert (cfg.password_field, cfg.schedule_write_method) == ("password", "POST")
    with pytest.raises(ValueError, match=r"coursedog_api\.pasword_field is not a known setting"):
        WireConfig.from_mapping({"pasword_field": "password"})
    with pytest.raises(ValueError, match="must be a bool"):
        WireConfig.from_mapping({"schedule_write_keeps_other_fields": "yes"})
    with pytest.raises(ValueError, match="must be a str"):
        WireConfig.from_mapping({"comment_field": 3})


def test_every_setting_has_a_certainty_and_endpoints_follow_the_config() -> None:
    assert set(wire.FIELD_STATUS) == {f.name for f in fields(WireConfig)}
    assert len({e.name for e in wire.ENDPOINTS}) == len(wire.ENDPOINTS)
    cfg = WireConfig(comment_method="PUT", comment_path="/api/v2/{school}/activity")
    posted = {e.name: e for e in wire.endpoints(cfg)}["post_comment"]
    assert (posted.method, posted.path, posted.status) == ("PUT", cfg.comment_path, "assumed")
