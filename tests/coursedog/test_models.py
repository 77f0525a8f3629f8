"""Value types handed to callers."""

from __future__ import annotations

import dataclasses

import pytest

from coursedog.models import ALL_OFF, MergeRun, Schedule, ScheduleSnapshot


@pytest.mark.parametrize(
    ("schedule", "text", "off"),
    [
        (Schedule(True, True), "nightly on, real-time on", False),
        (Schedule(True, False), "nightly on, real-time off", False),
        (Schedule(False, True), "nightly off, real-time on", False),
        (Schedule(False, False), "nightly off, real-time off", True),
    ],
)
def test_schedule_describe_and_is_off(schedule: Schedule, text: str, off: bool) -> None:
    assert schedule.describe() == text
    assert schedule.is_off() is off


def test_all_off_is_shared_and_values_are_frozen() -> None:
    assert ALL_OFF is Schedule.ALL_OFF
    assert Schedule(nightly=False, realtime=False) == ALL_OFF
    snapshot = ScheduleSnapshot(ALL_OFF, "ss-1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.save_state_id = "ss-2"  # type: ignore[misc]


def test_merge_run_is_running_until_it_has_a_verdict() -> None:
    assert MergeRun(None, "nightly", "running", None).running
    assert not MergeRun("r1", "nightly", "failed", False).running
