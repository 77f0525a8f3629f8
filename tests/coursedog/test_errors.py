"""The error tree callers catch."""

from __future__ import annotations

import pytest

from coursedog import errors


@pytest.mark.parametrize(
    ("cls", "parents"),
    [
        (errors.OutcomeUnknown, (errors.TransportError, errors.CoursedogError)),
        (errors.Unauthorized, (errors.ApiError,)),
        (errors.SettingsLocked, (errors.Forbidden, errors.ApiError)),
        (errors.NotFound, (errors.ApiError,)),
        (errors.RateLimited, (errors.ApiError,)),
        (errors.ServerError, (errors.ApiError, errors.CoursedogError)),
        (errors.BadResponse, (errors.CoursedogError,)),
    ],
)
def test_error_tree(cls: type[errors.CoursedogError], parents: tuple[type, ...]) -> None:
    assert issubclass(cls, parents)
    assert not issubclass(cls, errors.TransportError) or not issubclass(cls, errors.ApiError)


def test_errors_keep_their_context() -> None:
    exc = errors.RateLimited(
        "Coursedog at app.coursedog.com answered 429",
        status=429,
        host="app.coursedog.com",
        school="u_x",
        operation="GET integrationSchedule",
        retry_after=60.0,
    )
    assert (exc.status, exc.retry_after, exc.school) == (429, 60.0, "u_x")
    assert exc.operation == "GET integrationSchedule"
    assert str(exc) == exc.message == "Coursedog at app.coursedog.com answered 429"
