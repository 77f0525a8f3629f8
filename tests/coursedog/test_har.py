"""Reading HAR files as browsers write them, with every secret dropped on the way in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coursedog.har import CUT, parse_har, read_har
from coursedog.har_format import HarError
from tests.har import (
    ADMIN,
    PASSWORD,
    SECRETS,
    SESSION_COOKIE,
    TOKEN,
    Recorder,
    assumed_recording,
)

SCHOOL = "state_u_staging"


@pytest.mark.parametrize("browser", ["chrome", "firefox"])
def test_a_browser_recording_becomes_exchanges(browser: str) -> None:
    rec = assumed_recording(SCHOOL, browser=browser, noisy=20)
    recording = parse_har(json.dumps(rec.document()), "staging.har")
    assert len(recording.exchanges) == len(rec.entries)
    assert recording.creator == ("WebInspector 537.36" if browser == "chrome" else "Firefox 133.0")
    put = next(x for x in recording.exchanges if x.method == "PUT")
    assert put.host == "staging.coursedog.com"
    assert put.path == f"/api/v1/{SCHOOL}/general/integrationSchedule"
    assert put.body == {"integrationSchedule": {"syncType": "none", "nightly": False,
                                                "realtime": False}}  # fmt: skip
    assert put.body_kind == "json" and put.answer_kind == "json" and put.ok
    font = next(x for x in recording.exchanges if x.host == "fonts.gstatic.com")
    assert font.answer_kind == "other" and font.answer is None  # base64 binary, not JSON


def test_no_secret_survives_parsing() -> None:
    rec = assumed_recording(SCHOOL, noisy=60)
    raw = json.dumps(rec.document())
    assert all(secret in raw for secret in SECRETS), "the recording holds every secret"
    recording = parse_har(raw, "staging.har")
    kept = repr(recording.exchanges)
    for secret in SECRETS:
        assert secret not in kept
    assert ADMIN not in kept, "the login's email is cut out too"
    assert "Authorization" not in kept and "Cookie" not in kept
    login = recording.exchanges[0]
    assert login.body is None and login.body_kind == "dropped" and login.answer is None
    me = next(x for x in recording.exchanges if x.path.endswith("/users/me"))
    assert me.query == () and "refreshToken" not in json.dumps(me.answer)
    dropped = recording.dropped
    assert dropped.logins == 1 and dropped.authorization > 0 and dropped.cookies > 0
    assert dropped.query > 0 and dropped.body_fields > 0
    assert "1 login" in dropped.describe()


def test_a_secret_is_cut_out_wherever_else_it_appears() -> None:
    rec = Recorder("staging.coursedog.com")
    rec.login()
    rec.api(
        "POST",
        f"/api/v1/{SCHOOL}/notes",
        body={"note": f"pasted by mistake: {PASSWORD} and {SESSION_COOKIE}", "ref": TOKEN[:20]},
        answer={"echo": f"Bearer {TOKEN}"},
    )
    rec.add("GET", f"https://user:{PASSWORD}@staging.coursedog.com/x?state=ok")
    recording = parse_har(json.dumps(rec.document()), "r.har")
    note = recording.exchanges[1]
    assert note.body == {"note": f"pasted by mistake: {CUT} and {CUT}", "ref": TOKEN[:20]}
    assert note.answer == {"echo": CUT}  # the whole header value was the secret
    link = recording.exchanges[2]
    assert link.host == "staging.coursedog.com" and link.query == (("state", "ok"),)
    assert PASSWORD not in repr(recording.exchanges)


def test_a_json_web_token_is_cut_out_whatever_it_is_called() -> None:
    rec = Recorder("staging.coursedog.com")
    rec.api("GET", "/x", answer={"x": "eyJraWQiOiJhYmMifQ.eyJ1c2VyIjoiYm9iIn0.c2lnbmF0dXJl"},
            signed_in=False)  # fmt: skip
    recording = parse_har(json.dumps(rec.document()), "r.har")
    assert recording.exchanges[0].answer == {"x": CUT}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "is not a HAR file: it is not JSON"),
        ("{}", "is not a HAR file: log: missing"),
        ("[]", "is not a HAR file: the document: must be an object"),
        ('{"log": {"entries": {}}}', "log.entries: must be a list"),
        ('{"log": {"entries": [{"request": {}}]}}', "log.entries.0.response: missing"),
        (
            '{"log": {"entries": [{"request": {}, "response": {"status": 200}}]}}',
            "log.entries.0.request.method: missing",
        ),
        (
            '{"log": {"entries": [{"request": {"method": "GET", "url": "/"}, '
            '"response": {"status": "200"}}]}}',
            "log.entries.0.response.status: must be a number",
        ),
    ],
)
def test_what_is_not_a_har_file_is_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(HarError, match=message):
        parse_har(text, "notes.har")


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HarError, match="cannot be read"):
        read_har(tmp_path / "missing.har")


def test_a_byte_order_mark_and_missing_contents_are_tolerated(tmp_path: Path) -> None:
    rec = assumed_recording(SCHOOL)
    doc = rec.document()
    for entry in doc["log"]["entries"]:
        entry["response"]["content"].pop("text", None)  # saved without content
    path = tmp_path / "r.har"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    recording = read_har(path)
    assert {x.answer_kind for x in recording.exchanges} == {"missing", "dropped"}
