"""Value types handed to callers."""

from __future__ import annotations

import dataclasses
import pathlib

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


@pytest.mark.parametrize("schedule", [Schedule(n, r) for n in (True, False) for r in (True, False)])
def test_a_schedule_goes_to_the_ledger_and_back_unchanged(schedule: Schedule) -> None:
    assert schedule.to_dict() == {"nightly": schedule.nightly, "realtime": schedule.realtime}
    assert Schedule.from_dict(schedule.to_dict()) == schedule


def test_a_schedule_is_read_from_any_row_that_keeps_the_two_switches() -> None:
    @dataclasses.dataclass
    class Row:
        nightly: bool
        realtime: bool
        environment: str = "prod"

    assert Schedule.of(Row(nightly=True, realtime=False)) == Schedule(True, False)
    assert Schedule.of(Row(nightly=False, realtime=False)) is not ALL_OFF
    assert Schedule.of(Row(nightly=False, realtime=False)) == ALL_OFF


def test_all_off_is_defined_once() -> None:
    root = pathlib.Path(__file__).resolve().parents[2]
    defined = [
        path
        for folder in ("bot", "coursedog", "storage")
        for path in (root / folder).rglob("*.py")
        if "ALL_OFF = Schedule(" in path.read_text()
    ]
    assert defined == [root / "coursedog" / "models.py"]
