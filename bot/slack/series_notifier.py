"""Posting about series: their cards and threads, and the cards of their occurrences."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient

from bot.services.occurrences import Created, Materialised
from bot.services.outbox import Outbox
from bot.services.series import SeriesService
from bot.services.series_view import SeriesView
from bot.services.windows import WindowService
from bot.slack import series_blocks
from bot.slack.notifier import SlackNotifier

log = logging.getLogger(__name__)


class SeriesNotifier:
    """Keeps series cards current and gives each occurrence its own card and thread."""

    def __init__(
        self,
        client: WebClient,
        notifier: SlackNotifier,
        windows: WindowService,
        outbox: Outbox,
        series: SeriesService,
        *,
        labels: Mapping[str, str],
        channel: str,
        lookahead: timedelta,
    ) -> None:
        self._client = client
        self._notifier = notifier
        self._windows = windows
        self._outbox = outbox
        self._series = series
        self._labels = labels
        self._channel = channel
        self._lookahead = lookahead

    def card_payload(self, view: SeriesView) -> dict[str, Any]:
        """The series card as chat.postMessage arguments."""
        return {
            "text": series_blocks.series_card_text(view),
            "blocks": series_blocks.render_series_card(view, self._labels, self._lookahead),
        }

    def refresh_card(self, series_id: int) -> None:
        """Re-render a series card in place with its next occurrences (and have the App Home
        published again); never raises."""
        view = self._series.get(series_id)
        if not (view.channel_id and view.card_ts):
            return
        try:
            self._client.chat_update(
                channel=view.channel_id, ts=view.card_ts, **self.card_payload(view)
            )
        except Exception as exc:  # the card is a view; the ledger is the truth
            log.error("updating the card of %s failed: %s", view.number, type(exc).__name__)
        if self._notifier.on_change is not None:  # the App Home lists series too
            self._notifier.on_change()

    def in_thread(self, view: SeriesView, key: str, text: str) -> None:
        """Post once in the series card's thread (or to the requester when there is none)."""
        if view.channel_id and view.card_ts:
            self._notifier.post_once(key, view.channel_id, text, thread_ts=view.card_ts)
        else:
            self._notifier.post_once(key, view.requester_id, text)

    def publish(self, result: Materialised) -> None:
        """Cards for new occurrences; the series' thread hears of them and of skipped ones."""
        for created in result.created:
            self._post_occurrence(result.series, created)
        for occurrence, period in result.blacked_out:
            self.in_thread(
                result.series,
                f"blacked-out:{result.series.id}:{occurrence.on.isoformat()}",
                series_blocks.blacked_out(result.series, occurrence, period),
            )
        if result.created or result.blacked_out:
            self.refresh_card(result.series.id)

    def _post_occurrence(self, series: SeriesView, created: Created) -> None:
        view = created.window
        if view.card_ts is None:
            try:
                reply = self._client.chat_postMessage(
                    channel=self._channel, **self._notifier.message_payload(view)
                )
            except Exception as exc:  # the window goes ahead; its news go to the requester
                log.error("posting the card of %s failed: %s", view.number, type(exc).__name__)
            else:
                self._outbox.attach_card(view.id, str(reply["channel"]), str(reply["ts"]))
                view = self._windows.get(view.id)
        text = series_blocks.occurrence_scheduled(view.number, series, created.occurrence.note)
        self._notifier.in_thread(view, f"occurrence:{view.id}", text)
        assert view.starts_at is not None
        self.in_thread(
            series,
            f"occurrence-posted:{view.id}",
            series_blocks.occurrence_posted(view.number, view.starts_at, view.time_zone),
        )
