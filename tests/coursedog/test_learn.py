"""Learning the writes from a recording: what it learns, and each way it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from coursedog.contract import WriteContract
from coursedog.har import parse_har
from coursedog.learn import Learned, Refused, learn
from coursedog.models import ALL_OFF, Schedule
from coursedog.wire import DEFAULT_WIRE
from tests.har import COMMENT, Recorder, assumed_recording, settings_recording

SCHOOL = "state_u_staging"
HOST = "staging.coursedog.com"
READ = f"/api/v1/{SCHOOL}/general/integrationSchedule"
ON = Schedule(nightly=True, realtime=True)


def learned(rec: Recorder, school: str = SCHOOL, host: str = HOST) -> Learned:
    recording = parse_har(json.dumps(rec.document()), "r.har")
    return learn(recording, school=school, host=host, cfg=DEFAULT_WIRE)


def refusal(rec: Recorder, school: str = SCHOOL) -> Refused:
    with pytest.raises(Refused) as caught:
        learned(rec, school)
    return caught.value


def schedule(sync: str, **extra: Any) -> dict[str, Any]:
    return {"integrationSchedule": {"syncType": sync, **extra}}


@pytest.mark.parametrize("browser", ["chrome", "firefox"])
def test_the_assumed_shape_is_learned_through_a_hundred_unrelated_requests(browser: str) -> None:
    result = learned(assumed_recording(SCHOOL, browser=browser, noisy=100))
    s = result.contract.schedule
    assert (s.method, s.path) == ("PUT", "/api/v1/{school}/general/integrationSchedule")
    assert (s.base_path, s.base_pointer, s.wrap) == (
        "/api/v1/{school}/general/integrationSchedule",
        "/integrationSchedule",
        "/integrationSchedule",
    )
    assert s.reuses_schedule_read(DEFAULT_WIRE)
    assert [f.pointer for f in s.fields] == [
        "/integrationSchedule/syncType",
        "/integrationSchedule/nightly",
        "/integrationSchedule/realtime",
    ]
    assert s.states() == (ALL_OFF, ON)
    assert s.fields[0].value_for(ALL_OFF) == "none" and s.fields[1].value_for(ON) is True
    comment = result.contract.comment
    assert comment is not None and comment.text_pointer == "/comment"
    assert comment.path == "/api/v1/{school}/integration/mergeSettings/activity"
    assert result.host == HOST and len(result.writes) == 2 and not result.notes


def test_a_whole_settings_object_posted_from_another_read_is_learned() -> None:
    result = learned(settings_recording(SCHOOL, noisy=100))
    s = result.contract.schedule
    assert (s.method, s.path, s.base_path, s.base_pointer, s.wrap) == (
        "POST",
        "/api/v1/{school}/settings/save",
        "/api/v1/{school}/settings",
        "/data",
        "/settings",
    )
    assert [(f.pointer, f.values) for f in s.fields] == [
        ("/settings/integrationSchedule/syncType", ((ALL_OFF, "none"), (ON, "realtime")))
    ]
    comment = result.contract.comment
    assert comment is not None
    assert (comment.path, comment.text_pointer) == ("/api/v1/{school}/activity", "/content/text")
    assert dict(comment.constants) == {"/entity": "mergeSettings", "/kind": "comment"}
    assert comment.body(COMMENT)["content"] == {"text": COMMENT}
    # Nothing of the recorded settings is in the contract: only where the switches are.
    assert "America/Chicago" not in json.dumps(result.contract.to_json())


def test_a_recording_without_a_comment_keeps_the_assumed_comment() -> None:
    result = learned(assumed_recording(SCHOOL, comment=False))
    assert result.contract.comment is None
    assert result.notes == (
        "no Activity comment was found after the Saves: comments stay the assumed call",
    )


def test_a_recording_on_another_host_is_learned_with_a_note() -> None:
    rec = assumed_recording(SCHOOL)
    result = learned(rec, host="app.coursedog.com")
    assert result.host == HOST
    assert result.notes == ("recorded on staging.coursedog.com, while the environment is on "
                            "app.coursedog.com",)  # fmt: skip


def test_a_recording_that_never_reads_the_schedule_is_refused() -> None:
    rec = Recorder(HOST)
    rec.api("PUT", READ, body=schedule("none"))
    assert "never reads the schedule (GET /api/v1/{school}/general/integrationSchedule)" in str(
        refusal(rec)
    )


def test_a_recording_of_another_school_is_refused() -> None:
    exc = refusal(assumed_recording("state_u_prod", "app.coursedog.com"))
    assert str(exc) == (
        "the recording is of another school (state_u_prod on app.coursedog.com), not "
        "state_u_staging"
    )


def no_saves() -> Recorder:
    """The page read, then something else written."""
    rec = Recorder(HOST)
    rec.api("GET", READ, answer=schedule("realtime"))
    rec.api("POST", f"/api/v1/{SCHOOL}/events", body={"event": "page_view"}, status=201)
    return rec


def one_save() -> Recorder:
    """Switched off and saved, never back on."""
    rec = Recorder(HOST)
    rec.api("GET", READ, answer=schedule("realtime"))
    rec.api("PUT", READ, body=schedule("none"))
    rec.api("GET", READ, answer=schedule("none"))
    return rec


def two_calls_per_save() -> Recorder:
    """Each Save makes two calls, each of which could be the Save."""
    rec = Recorder(HOST)
    settings = f"/api/v1/{SCHOOL}/settings"
    for sync in ("realtime", "none", "realtime"):
        if rec.entries:
            rec.api("PUT", READ, body=schedule(sync))
            rec.api("POST", settings, body={"sync": sync, "tz": "UTC"})
        rec.api("GET", READ, answer=schedule(sync))
        rec.api("GET", settings, answer={"sync": sync, "tz": "UTC"})
    return rec


def stamped_saves() -> Recorder:
    """Each Save also sends a new time stamp: not a switch, and not rebuilt from a read."""
    rec = Recorder(HOST)
    stamps = iter(["2026-11-02T14:00:00Z", "2026-11-02T14:03:09Z", "2026-11-02T14:03:12Z"])
    stamp = next(stamps)
    rec.api("GET", READ, answer=schedule("realtime", updatedAt=stamp))
    for sync in ("none", "realtime"):
        stamp = next(stamps)
        rec.api("PUT", READ, body=schedule(sync, updatedAt=stamp))
        rec.api("GET", READ, answer=schedule(sync, updatedAt=stamp))
    return rec


def no_read_after() -> Recorder:
    """The schedule is never read again after a Save, nor is anything to match its values."""
    rec = Recorder(HOST)
    settings = f"/api/v1/{SCHOOL}/settings"
    rec.api("GET", READ, answer=schedule("realtime"))
    rec.api("GET", settings, answer={"sync": "realtime"})
    rec.api("POST", settings, body={"sync": "none"})
    rec.api("GET", settings, answer={"sync": "none"})  # reloaded, but not the schedule read
    rec.api("POST", settings, body={"sync": "realtime"})
    return rec


def never_all_off() -> Recorder:
    """Real-time switched off and on, nightly left on."""
    rec = Recorder(HOST)
    rec.api("GET", READ, answer=schedule("realtime"))
    rec.api("PUT", READ, body=schedule("nightly"))
    rec.api("GET", READ, answer=schedule("nightly"))
    rec.api("PUT", READ, body=schedule("realtime"))
    rec.api("GET", READ, answer=schedule("realtime"))
    return rec


def without_content() -> Recorder:
    """Saved without the answers' content."""
    rec = assumed_recording(SCHOOL)
    for entry in rec.entries:
        entry["response"]["content"].pop("text")
    return rec


def unknown_read() -> Recorder:
    """A schedule read with a value the bot does not know."""
    rec = Recorder(HOST)
    rec.api("GET", READ, answer=schedule("hourly"))
    return rec


def two_comments() -> Recorder:
    """Two pieces of typed text posted after the Saves."""
    rec = assumed_recording(SCHOOL)
    rec.api("POST", f"/api/v1/{SCHOOL}/notes", body={"note": "another typed note here"})
    return rec


# Each recording the learner refuses, and words of the reason it gives.
REFUSED = [
    (no_saves, "no request after the schedule read sends back a read object"),
    (one_save, "only one Save that changed the schedule"),
    (two_calls_per_save, "several requests could be the schedule's Save"),
    (stamped_saves, "the body carries something besides the switches"),
    (no_read_after, "cannot be told: no schedule read follows it"),
    (never_all_off, "never switches every schedule off"),
    (without_content, "kept no answers: save it with content"),
    (unknown_read, "which the bot does not understand"),
    (two_comments, "several requests after the Saves could be the Activity comment"),
]


def test_a_recording_without_the_saves_is_refused_listing_what_wrote() -> None:
    exc = refusal(no_saves())
    assert "no request after the schedule read sends back a read object" in str(exc)
    assert "nor the switch fields alone" in str(exc)
    assert exc.candidates == (f"POST /api/v1/{SCHOOL}/events (entry 2, answered 201)",)


def test_a_recording_with_one_save_is_refused() -> None:
    exc = refusal(one_save())
    assert "only one Save that changed the schedule" in str(exc)
    assert exc.candidates == (
        "PUT /api/v1/{school}/general/integrationSchedule built from GET "
        "/api/v1/{school}/general/integrationSchedule at /integrationSchedule: entries 2",
    )


def test_several_calls_that_could_each_be_the_save_are_listed() -> None:
    exc = refusal(two_calls_per_save())
    assert "several requests could be the schedule's Save" in str(exc)
    assert len(exc.candidates) == 2
    assert exc.candidates[1].startswith("POST /api/v1/{school}/settings built from GET")


def test_a_body_that_carries_more_than_the_switches_is_refused() -> None:
    exc = refusal(stamped_saves())
    assert "cannot be explained" in str(exc)
    assert '/integrationSchedule/updatedAt reads "2026-11-02T14:00:00Z" for nightly on, ' in str(
        exc
    )
    assert "the body carries something besides the switches" in str(exc)


def test_a_save_with_no_read_after_it_and_nothing_to_match_is_refused() -> None:
    assert "cannot be told: no schedule read follows it" in str(refusal(no_read_after()))


def test_a_recording_that_never_switches_everything_off_is_refused() -> None:
    exc = refusal(never_all_off())
    assert "never switches every schedule off" in str(exc)
    assert "nightly on, real-time off; nightly on, real-time on" in str(exc)


def test_a_recording_saved_without_content_is_refused() -> None:
    assert "kept no answers: save it with content" in str(refusal(without_content()))


def test_a_schedule_read_the_bot_does_not_understand_is_refused() -> None:
    exc = refusal(unknown_read())
    assert 'answers {"syncType":"hourly"}' in str(exc) and "sync_type_*" in str(exc)


def test_two_comments_after_the_saves_are_listed() -> None:
    exc = refusal(two_comments())
    assert "several requests after the Saves could be the Activity comment" in str(exc)
    assert [c.split(" (")[0] for c in exc.candidates] == [
        f"POST /api/v1/{SCHOOL}/integration/mergeSettings/activity",
        f"POST /api/v1/{SCHOOL}/notes",
    ]


def test_what_is_learned_is_a_valid_contract() -> None:
    contract = learned(settings_recording(SCHOOL)).contract
    assert WriteContract.from_json(json.loads(json.dumps(contract.to_json()))) == contract


def partial_recording(extra: dict[str, Any] | None = None) -> Recorder:
    """A page that PATCHes the switch field alone, while its read carries more."""
    rec = Recorder(HOST)
    path = f"/api/v1/{SCHOOL}/general/integrationSchedule/syncType"
    for sync in ("realtime", "none", "realtime"):
        if rec.entries:
            rec.api("PATCH", path, body={"syncType": sync, **(extra or {})})
        rec.api("GET", READ, answer=schedule(sync, _id="sched-1", updatedAt=f"t{len(rec.entries)}"))
    return rec


def test_a_save_of_the_switch_fields_alone_is_learned_with_nothing_read() -> None:
    s = learned(partial_recording()).contract.schedule
    assert (s.method, s.path, s.base_path, s.wrap) == (
        "PATCH",
        "/api/v1/{school}/general/integrationSchedule/syncType",
        None,
        "",
    )
    assert s.body({}, ALL_OFF) == {"syncType": "none"}
    assert s.states() == (ALL_OFF, ON)


def test_a_save_of_fields_alone_that_sends_a_constant_is_refused() -> None:
    exc = refusal(partial_recording({"editedBy": "registrar"}))
    assert '/editedBy is sent as "registrar" whatever the schedule: it is not a switch' in str(exc)
