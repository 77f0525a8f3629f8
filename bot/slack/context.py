"""What the listeners are handed: the services, the settings, the notifier, the worker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.config import Settings
from bot.services.blackouts import BlackoutService
from bot.services.notice_drafts import NoticeService
from bot.services.outbox import Outbox
from bot.services.presses import AssistedService
from bot.services.running_merges import RunningMerges
from bot.services.series import SeriesService
from bot.services.status import StatusService
from bot.services.windows import WindowService
from bot.slack.home import HomePublisher
from bot.slack.notifier import SlackNotifier
from bot.slack.series_notifier import SeriesNotifier


class Kicker(Protocol):
    """Asks the worker to reconcile environments soon, or to read them as the watchdog does."""

    def kick(self, environments: Iterable[str], *, reading: bool = False) -> None: ...

    def look(self, environments: Iterable[str]) -> None: ...


@dataclass(frozen=True)
class SlackDeps:
    """Dependencies of the Slack listeners."""

    settings: Settings
    clock: Clock
    windows: WindowService
    status: StatusService
    notifier: SlackNotifier
    worker: Kicker
    home: HomePublisher
    notices: NoticeService
    outbox: Outbox
    assisted: AssistedService
    # Environment -> link to its Merge Settings page in Coursedog.
    merge_settings: Mapping[str, str]
    series: SeriesService
    blackouts: BlackoutService
    series_notices: SeriesNotifier
    # What merges Coursedog is running as a window starts (bot.services.running_merges).
    running_merges: RunningMerges

    @property
    def labels(self) -> dict[str, str]:
        """Environment short name -> label."""
        return {name: env.label for name, env in self.settings.environments.items()}
