"""Due-action payloads: each reads back as written, and anything else is a BadPayload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.domain.due_payloads import BadPayload, Materialise, MergeWatch, Nag, Notify, read, write

RESTORED = datetime(2026, 12, 6, 7, 30, tzinfo=UTC)
PAYLOADS = [
    Nag(3),
    MergeWatch(4, "prod", RESTORED, 2),
    MergeWatch(4, "prod", RESTORED.astimezone(timezone(timedelta(hours=-5))), 1),
    Materialise(12),
    Notify("notice:4:approved:prod"),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: type(p).__name__)
def test_a_payload_reads_back_as_written(payload: Any) -> None:
    kept = write(payload)
    assert read(type(payload), kept) == payload


def test_a_payload_is_kept_as_plain_json() -> None:
    assert write(MergeWatch(4, "prod", RESTORED, 2)) == {
        "window_id": 4,
        "environment": "prod",
        "restored_at": "2026-12-06T07:30:00+00:00",
        "number": 2,
    }
    assert write(Nag(3)) == {"number": 3}


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        (Nag, None, "is an object, not NoneType"),
        (Nag, [3], "is an object, not list"),
        (Nag, {}, r"has \['number'\], not \[\]"),
        (Nag, {"number": 3, "extra": 1}, r"has \['number'\], not \['extra', 'number'\]"),
        (Nag, {"number": "3"}, "Nag.number is not a whole number: '3'"),
        (Nag, {"number": True}, "Nag.number is not a whole number: True"),
        (Notify, {"notice_key": ""}, "Notify.notice_key is not a text"),
        (Materialise, {"series_id": 1.5}, "Materialise.series_id is not a whole number"),
        (
            MergeWatch,
            {"window_id": 4, "environment": "prod", "restored_at": "2026-12-06T07:30", "number": 1},
            "MergeWatch.restored_at is not an ISO 8601 time with its offset",
        ),
        (
            MergeWatch,
            {"window_id": 4, "environment": "prod", "restored_at": "yesterday", "number": 1},
            "MergeWatch.restored_at is not an ISO 8601 time",
        ),
    ],
)
def test_anything_else_is_a_bad_payload(kind: Any, data: Any, message: str) -> None:
    with pytest.raises(BadPayload, match=message):
        read(kind, data)
