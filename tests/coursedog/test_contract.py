"""A write contract: its JSON form, the checks on loading it, and the bodies it builds."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from coursedog.contract import ContractError, WriteContract
from coursedog.models import ALL_OFF, Schedule

ON = Schedule(nightly=True, realtime=True)
NIGHTLY = Schedule(nightly=True, realtime=False)


def settings_contract() -> dict[str, Any]:
    """The whole settings object POSTed under "settings", read from another GET."""
    return {
        "version": 1,
        "schedule": {
            "method": "POST",
            "path": "/api/v1/{school}/settings/save",
            "base": {"path": "/api/v1/{school}/settings", "pointer": "/data"},
            "wrap": "/settings",
            "fields": [
                {
                    "pointer": "/settings/integrationSchedule/syncType",
                    "values": [
                        {"nightly": False, "realtime": False, "value": "none"},
                        {"nightly": True, "realtime": True, "value": "realtime"},
                    ],
                }
            ],
        },
        "comment": {
            "method": "POST",
            "path": "/api/v1/{school}/activity",
            "text": "/content/text",
            "constants": {"/entity": "mergeSettings"},
        },
    }


def test_a_contract_survives_its_json_form() -> None:
    contract = WriteContract.from_json(settings_contract())
    assert contract.to_json() == settings_contract()
    assert contract.schedule.states() == (ALL_OFF, ON)
    assert contract.schedule.label == "POST /api/v1/{school}/settings/save"


def test_the_schedule_body_is_the_fresh_base_with_the_switches_set() -> None:
    write = WriteContract.from_json(settings_contract()).schedule
    base = {"integrationSchedule": {"syncType": "realtime"}, "timezone": "America/Chicago"}
    body = write.body(base, ALL_OFF)
    assert body == {
        "settings": {"integrationSchedule": {"syncType": "none"}, "timezone": "America/Chicago"}
    }
    assert base["integrationSchedule"] == {"syncType": "realtime"}, "the base is not changed"
    assert write.schedule_of(body) == ALL_OFF
    assert write.base_of({"data": base}) == base


def test_a_schedule_the_recording_never_showed_has_no_body() -> None:
    write = WriteContract.from_json(settings_contract()).schedule
    assert not write.knows(NIGHTLY)
    with pytest.raises(KeyError):
        write.body({}, NIGHTLY)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"settings": {"integrationSchedule": {"syncType": "nightly"}}}, "match no schedule"),
        ({"settings": {}}, "match no schedule"),
        ({"integrationSchedule": {"syncType": "none"}}, "no object at /settings"),
        ({"settings": {"integrationSchedule": {"syncType": "none"}}, "x": 1}, "outside"),
        ([1], "no object"),
    ],
)
def test_a_body_not_following_the_contract_says_how(body: Any, problem: str) -> None:
    write = WriteContract.from_json(settings_contract()).schedule
    with pytest.raises(ValueError, match=problem):
        write.schedule_of(body)


def test_the_comment_body_carries_the_text_and_the_constants() -> None:
    comment = WriteContract.from_json(settings_contract()).comment
    assert comment is not None
    body = comment.body("Integration off for the Banner patch")
    assert body == {
        "entity": "mergeSettings",
        "content": {"text": "Integration off for the Banner patch"},
    }
    assert comment.text_of(body) == "Integration off for the Banner patch"
    with pytest.raises(ValueError, match="must be"):
        comment.text_of({"content": {"text": "hello there"}})  # the constant is missing
    with pytest.raises(ValueError, match="non-empty"):
        comment.text_of({"entity": "mergeSettings", "content": {"text": " "}})


def _broken(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(settings_contract())
    change(doc)
    return doc


def _values(doc: dict[str, Any]) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = doc["schedule"]["fields"][0]["values"]
    return values


BROKEN = [
    ("empty", lambda d: d.clear(), "^version is missing"),
    ("version", lambda d: d.update(version=2), "version must be 1"),
    ("unknown key", lambda d: d.update(extra=1), "unknown key 'extra'"),
    ("method", lambda d: d["schedule"].update(method="GET"), "schedule.method must be one of"),
    ("no school", lambda d: d["schedule"].update(path="/api/v1/x"), "must contain {school}"),
    (
        "placeholder",
        lambda d: d["schedule"].update(path="/api/{school}/{id}"),
        "no placeholder but {school}",
    ),
    ("relative", lambda d: d["schedule"]["base"].update(path="api/{school}"), "starting with '/'"),
    ("pointer", lambda d: d["schedule"].update(wrap="settings"), "schedule.wrap"),
    ("no fields", lambda d: d["schedule"].update(fields=[]), "non-empty list"),
    (
        "outside the base",
        lambda d: d["schedule"]["fields"][0].update(pointer="/other/syncType"),
        "must be inside the base",
    ),
    ("flag", lambda d: _values(d)[0].update(nightly="no"), "must be true or false"),
    ("twice", lambda d: _values(d)[1].update(nightly=False, realtime=False), "appears twice"),
    ("no value", lambda d: _values(d)[0].pop("value"), r"values\[0\].value is missing"),
    ("only one", lambda d: _values(d).pop(), "both switches off"),
    ("no off", lambda d: _values(d)[0].update(nightly=True), "both switches off"),
    ("same values", lambda d: _values(d)[0].update(value="realtime"), "the same values"),
    ("comment text", lambda d: d["comment"].update(text=""), "comment.text must point inside"),
    (
        "overlap",
        lambda d: d["comment"]["constants"].update({"/content": "x"}),
        "overlaps another field",
    ),
]


@pytest.mark.parametrize(("name", "change", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_contract_is_refused_naming_what_is_wrong(
    name: str, change: Any, message: str
) -> None:
    with pytest.raises(ContractError, match=message):
        WriteContract.from_json(_broken(change))


def test_a_contract_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ContractError, match="the contract must be an object"):
        WriteContract.from_json(["schedule"])


def test_fields_must_know_the_same_schedules() -> None:
    doc = settings_contract()
    doc["schedule"]["fields"].append(
        {
            "pointer": "/settings/integrationSchedule/enabled",
            "values": [{"nightly": False, "realtime": False, "value": False}],
        }
    )
    with pytest.raises(ContractError, match=r"schedule.fields\[1\] has values for other"):
        WriteContract.from_json(doc)


def test_true_is_not_one() -> None:
    doc = settings_contract()
    _values(doc)[0]["value"], _values(doc)[1]["value"] = 1, True
    write = WriteContract.from_json(doc).schedule  # distinct in JSON, so distinct here
    assert write.schedule_of({"settings": {"integrationSchedule": {"syncType": True}}}) == ON


def fields_alone() -> dict[str, Any]:
    """A PATCH of the switch field alone: nothing read first."""
    doc = settings_contract()
    doc["schedule"] |= {"method": "PATCH", "base": None, "wrap": ""}
    doc["schedule"]["fields"][0]["pointer"] = "/syncType"
    return doc


def test_a_contract_of_the_switch_fields_alone_builds_them_from_nothing() -> None:
    contract = WriteContract.from_json(fields_alone())
    assert contract.to_json() == fields_alone()
    write = contract.schedule
    assert not write.reads_base and write.base_path is None
    assert write.body({}, ON) == {"syncType": "realtime"}
    with pytest.raises(ValueError, match="the switch fields alone, not /timezone"):
        write.schedule_of({"syncType": "none", "timezone": "UTC"})
    doc = fields_alone()
    doc["schedule"]["wrap"] = "/settings"
    with pytest.raises(ContractError, match=r"wrap must be empty when schedule\.base is null"):
        WriteContract.from_json(doc)
