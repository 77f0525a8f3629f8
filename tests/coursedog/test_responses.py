"""Turning answers into values or typed errors."""

from __future__ import annotations

import httpx
import pytest

from coursedog import errors
from coursedog.responses import Call, decode, parse

CALL = Call("app.coursedog.com", "u_x", "PUT integrationSchedule")


def answer(
    status: int, body: object = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "write", "cls"),
    [
        (401, False, errors.Unauthorized),
        (403, False, errors.Forbidden),
        (403, True, errors.WriteRefused),
        (401, True, errors.WriteRefused),
        (423, False, errors.SettingsLocked),
        (423, True, errors.SettingsLocked),
        (404, True, errors.NotFound),
        (429, True, errors.RateLimited),
        (500, False, errors.ServerError),
        (504, True, errors.ServerError),
        (409, True, errors.ApiError),
    ],
)
def test_status_maps_to_error_class(status: int, write: bool, cls: type[errors.ApiError]) -> None:
    exc = CALL.api_error(answer(status, {}), write=write, secrets=())
    assert type(exc) is cls
    assert exc.status == status
    assert str(exc).startswith(f"Coursedog at app.coursedog.com answered {status} for PUT")


@pytest.mark.parametrize(
    ("words", "cls"),
    [
        ("merge settings are locked for this school", errors.SettingsLocked),
        ("Settings cannot change during the Scheduling phase", errors.SettingsLocked),
        ("Forbidden", errors.WriteRefused),
        ("user does not have write access", errors.WriteRefused),
    ],
)
def test_a_refused_write_is_locked_only_when_coursedog_says_so(
    words: str, cls: type[errors.ApiError]
) -> None:
    for status in (401, 403):
        exc = CALL.api_error(answer(status, {"message": words}), write=True, secrets=())
        assert type(exc) is cls
        assert isinstance(exc, errors.WriteRefused)  # either way, a refused write
    refused = CALL.api_error(answer(403, {"message": "Forbidden"}), write=True, secrets=())
    assert "the API user may be read-only, or the merge settings may be locked" in str(refused)


def test_server_words_are_kept_short_and_scrubbed_of_secrets() -> None:
    body = {"message": "token abc123 rejected; " + "x" * 500}
    exc = CALL.api_error(answer(400, body), write=True, secrets=("abc123", None))
    assert "token *** rejected" in str(exc)
    assert "abc123" not in str(exc)
    assert len(str(exc)) < 300


def test_retry_after_is_reported() -> None:
    exc = CALL.api_error(answer(429, "slow down", {"Retry-After": "90"}), write=False, secrets=())
    assert exc.retry_after == 90.0
    assert "asked to wait 90s" in str(exc)


def test_login_refusals() -> None:
    refused = CALL.login_refused(401, "svc@u.edu")
    assert isinstance(refused, errors.Unauthorized)
    assert "svc@u.edu" in str(refused)
    bad_body = CALL.login_refused(400, "svc@u.edu")
    assert type(bad_body) is errors.ApiError
    assert "coursedog_api.password_field" in str(bad_body)


def refuse(_: object) -> None:
    raise ValueError("nope")


def test_decode_and_parse() -> None:
    assert decode(answer(200, {"a": 1}), CALL, expect_json=True) == {"a": 1}
    assert decode(httpx.Response(204), CALL, expect_json=True) is None
    assert decode(answer(200, "OK"), CALL, expect_json=False) is None
    with pytest.raises(errors.BadResponse, match="not JSON"):
        decode(answer(200, "<html>"), CALL, expect_json=True)
    with pytest.raises(errors.BadResponse, match="unexpected shape: nope") as caught:
        parse(CALL, refuse, 1)
    assert isinstance(caught.value.__cause__, ValueError)
