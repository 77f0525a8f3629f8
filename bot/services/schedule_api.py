"""The part of the Coursedog client the bot uses (the real client, the simulator's and the
metered one all fit it)."""

from __future__ import annotations

from typing import Protocol

from coursedog.models import MergeRun, Schedule, ScheduleSnapshot


class ScheduleApi(Protocol):
    """The part of the Coursedog client the bot uses."""

    def read_schedule(self) -> ScheduleSnapshot: ...

    def read_switches(self) -> Schedule: ...

    def write_schedule(
        self, schedule: Schedule, *, over: ScheduleSnapshot | None = None
    ) -> None: ...

    def post_activity_comment(self, text: str) -> None: ...

    def merge_history(self, schedule_type: str, size: int = 5) -> list[MergeRun]: ...

    def merge_report_url(self, report_id: str) -> str: ...
