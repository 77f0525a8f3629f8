"""Posting to Slack from outside a request: thread reports, card refreshes, direct messages."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import crashpoint
from bot.clock import Clock
from bot.domain.actors import is_api
from bot.domain.nightly import NightlyMerge
from bot.services import conflicts, requester_news
from bot.services.assisted import ChecklistView
from bot.services.outbox import Outbox, card_key, thread_of
from bot.services.reports import Report, ReportKind
from bot.services.requester_news import News
from bot.services.views import WindowView
from bot.services.windows import WindowService
from bot.slack import summary
from bot.slack.blocks import card_text, nightly_warning, render_card
from bot.slack.checklist_blocks import comment_to_paste, comment_value
from bot.slack.checklist_blocks import render as render_checklist
from bot.slack.kit import message, section
from bot.slack.messages import (
    baseline_choices,
    render_report,
    save_state_choices,
    switched_back_on,
)
from bot.slack.people import SlackPeople
from bot.slack.requester_dms import render as render_news
from bot.slack.requester_dms import with_thread
from bot.slack.text import user

log = logging.getLogger(__name__)
CARD_LOCKS = 64
# Links to threads kept, so a window's requester news asks Slack for its link once.
LINKS_KEPT = 1024


class Checklists(Protocol):
    """Where an assisted report's checklist is read (bot.services.presses.AssistedService)."""

    def checklist(self, window_id: int, environment: str, phase: str) -> ChecklistView | None:
        """The checklist as it stands, or None if there is none."""
        ...


class CardNotPosted(Exception):
    """Slack refused a request's approval card (``error`` is what it said)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class SlackNotifier:
    """Posts each notice at most once per dedup key and keeps approval cards current."""

    def __init__(
        self,
        client: WebClient,
        outbox: Outbox,
        clock: Clock,
        windows: WindowService,
        *,
        labels: Mapping[str, str],
        channel: str,
        checklists: Checklists,
        nightly: NightlyMerge | None = None,
        merge_settings: Mapping[str, str] | None = None,
        drivers: Mapping[str, str] | None = None,
        on_change: Callable[[], None] | None = None,
        people: SlackPeople | None = None,
    ) -> None:
        """``drivers``: how each environment is switched, as cards show it; ``on_change``:
        called after a card changed (the App Home re-publishes for its viewers); ``people``:
        whose time zones say whether a card adds the environment's own time."""
        self._people = people
        self._drivers = dict(drivers or {})
        self._nightly = nightly
        # Environment -> link to its Merge Settings page.
        self._links = dict(merge_settings or {})
        self._checklists = checklists
        self._channel = channel
        self.on_change = on_change
        self._client = client
        self._outbox = outbox
        self._clock = clock
        self._windows = windows
        self._labels = labels
        # Card refreshes of one window take turns (locks striped by window id).
        self._card_locks = [threading.Lock() for _ in range(CARD_LOCKS)]
        self._thread_locks = [threading.Lock() for _ in range(CARD_LOCKS)]
        self._thread_links: dict[tuple[str, str], str] = {}
        # One sender of requester news at a time in this process, so they go out in order.
        self._news_lock = threading.Lock()

    def post_once(
        self,
        key: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> str | None:
        """Post ``text`` unless a notice with ``key`` was posted already; return its ts."""
        notice_id = self._outbox.claim(key, channel, thread_ts)
        if notice_id is None:
            return None
        return self._post_claimed(notice_id, key, channel, text, thread_ts=thread_ts, blocks=blocks)

    def _post_claimed(
        self,
        notice_id: int,
        key: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None,
        blocks: list[dict[str, Any]] | None,
    ) -> str | None:
        """Post a notice whose claim is committed; a failed post frees the claim."""
        try:
            reply = self._client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, **message(text, blocks)
            )
        except Exception as exc:  # a notice must never break the caller's work
            log.error("posting notice %s failed: %s", key, _slack_error(exc))
            self._outbox.not_posted(notice_id)
            return None
        ts = str(reply.get("ts"))
        self._outbox.posted(notice_id, ts)
        return ts

    def post_card(
        self,
        view: WindowView,
        overlaps: conflicts.Overlaps | None = None,
        *,
        claim: int | None = None,
    ) -> bool:
        """Post a request's approval card and attach it to the window, under ``claim`` (the
        one its request made) or under a claim taken now. False when someone else holds the
        claim; CardNotPosted when Slack refuses the card (the claim is freed)."""
        notice_id = claim
        if notice_id is None:
            notice_id = self._outbox.claim(card_key(view.id), self._channel)
        if notice_id is None:
            return False
        try:
            reply = self._client.chat_postMessage(
                channel=self._channel, **self.message_payload(view, overlaps)
            )
        except Exception as exc:  # a card nobody can see is no card: the caller withdraws
            self._outbox.not_posted(notice_id)
            raise CardNotPosted(_slack_error(exc)) from exc
        self._outbox.card_posted(view.id, notice_id, str(reply["channel"]), str(reply["ts"]))
        if self.on_change is not None:  # the App Home lists the new request
            self.on_change()
        return True

    def in_thread(
        self, view: WindowView, key: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        """Post once in the window's card thread (or to the requester when there is no card)."""
        channel, thread_ts = thread_of(view)
        self.post_once(key, channel, text, thread_ts=thread_ts, blocks=blocks)

    def in_thread_and_direct(
        self, view: WindowView, key: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        """Post once in the window's thread and once to its requester, linking the thread; a
        window without a card has its thread in the requester's messages: they get it once."""
        self.in_thread(view, key, text, blocks=blocks)
        if thread_of(view)[0] != view.requester_id:
            self.direct(view.requester_id, f"{key}:dm", text, about=view)

    def tell_first(
        self, view: WindowView, key: str, text: str, *, then: Callable[[], None]
    ) -> None:
        """Post ``text`` in the window's thread and call ``then`` (which starts work whose
        reports go to the same thread) without waiting for Slack: reports published to the
        thread meanwhile wait for this post, so the thread still reads in order."""
        with self._thread_locks[view.id % len(self._thread_locks)]:
            then()
            self.in_thread(view, key, text)

    def refresh_card(self, view: WindowView) -> None:
        """Re-render the window's approval card in place, from the ledger as it is now.

        Two threads may refresh one card at once (a click, the worker, the scheduler): each
        reads and updates under the window's lock, so the card never ends on the older state.
        """
        if not (view.channel_id and view.card_ts):
            return
        with self._card_locks[view.id % len(self._card_locks)]:
            try:
                current = self._windows.get(view.id)
                self._client.chat_update(
                    channel=view.channel_id,
                    ts=view.card_ts,
                    **message(card_text(current), self._card(current)),
                )
            except Exception as exc:  # the card is a view; the ledger is the truth
                log.error("updating the card of %s failed: %s", view.number, _slack_error(exc))
        if self.on_change is not None:
            self.on_change()

    def post_channel(self, key: str, text: str) -> None:
        """A notice in the approvals channel, once per key."""
        self.post_once(key, self._channel, text)

    def direct(self, user_id: str, key: str, text: str, *, about: WindowView | None = None) -> None:
        """A direct message to one person, once per key; an API caller has no direct
        messages, so what it would be told goes to the approvals channel instead. ``about``:
        the window the message tells of, whose thread it links to as requester news does
        (asked of Slack only when the message is to be posted)."""
        channel = self._channel if is_api(user_id) else user_id
        notice_id = self._outbox.claim(key, channel)
        if notice_id is None:
            return
        if about is not None:
            text = with_thread(text, about, self._thread_link(about))
        if is_api(user_id):
            text = f"{user(user_id)}: {text}"
        self._post_claimed(notice_id, key, channel, text, thread_ts=None, blocks=None)

    def tell_requesters(self) -> int:
        """Send requesters the news they are owed (bot.services.requester_news), each once,
        with a link to the thread; returns how many were sent. News Slack refused stays
        owed, and the next call sends it."""
        with self._news_lock:
            return sum(self._tell(news) for news in self._outbox.owed_news())

    def _tell(self, news: News) -> bool:
        """Send one piece of news unless it is sent, being sent, or not for its requester."""
        view, notice_id = self._outbox.claim_news(news)
        if not news.goes_to(view):
            if notice_id is not None:
                self._outbox.not_posted(notice_id)
            self._outbox.news_settled(news.key, sent=False)
            return False
        ts = None
        if notice_id is not None:
            text = render_news(news, view, self._labels, self._thread_link(view))
            ts = self._post_claimed(
                notice_id, news.key, view.requester_id, text, thread_ts=None, blocks=None
            )
        self._outbox.news_settled(news.key)
        return ts is not None

    def _thread_link(self, view: WindowView) -> str | None:
        """The link to the window's card (its thread), from chat.getPermalink; None when Slack
        gives none."""
        if not (view.channel_id and view.card_ts):
            return None
        where = (view.channel_id, view.card_ts)
        link = self._thread_links.get(where)
        if link is None:
            try:
                reply = self._client.chat_getPermalink(channel=where[0], message_ts=where[1])
                link = str(reply["permalink"])
            except Exception as exc:  # the message says where the thread is instead
                log.warning("no link to the thread of %s: %s", view.number, _slack_error(exc))
                return None
            if len(self._thread_links) >= LINKS_KEPT:
                self._thread_links.clear()
            self._thread_links[where] = link
        return link

    def open_modal(self, trigger_id: str, modal: dict[str, Any]) -> str | None:
        """Open a modal for the person whose click gave ``trigger_id``; None when it opened,
        else what Slack said (an expired trigger, say)."""
        try:
            self._client.views_open(trigger_id=trigger_id, view=modal)
        except Exception as exc:  # the caller decides without the modal
            return _slack_error(exc)
        return None

    def publish(self, reports: list[Report]) -> None:
        """Tell each window's thread what happened to its environments; refresh its card.

        Many routine outcomes of one window in one batch (a group's switch) are told in one
        summary message, before the ones that need a person, each in its own."""
        touched: dict[int, WindowView] = {}
        summaries, reports = summary.split(reports)
        for told in summaries:
            touched[told.window_id] = self._post_summary(told)
        for report in reports:
            if report.window_id is None:
                self.post_channel(report.dedup_key, render_report(report, self._labels))
                self._outbox.report_posted(report.dedup_key)
                continue
            text, blocks = self._render(report)
            with self._thread_locks[report.window_id % len(self._thread_locks)]:  # after tell_first
                view, notice_id = self._outbox.claim_in_thread(report.window_id, report.dedup_key)
                if notice_id is not None:
                    channel, thread_ts = thread_of(view)
                    self._post_claimed(
                        notice_id,
                        report.dedup_key,
                        channel,
                        text,
                        thread_ts=thread_ts,
                        blocks=blocks,
                    )
            touched[report.window_id] = view
            crashpoint.reached("posted")
            # Posted, or known posted: owed no more. One Slack refused stays owed for the worker.
            self._outbox.report_posted(report.dedup_key)
        for view in touched.values():
            self.refresh_card(view)  # re-read there, under the card's lock
        if touched:
            self.tell_requesters()

    def _post_summary(self, told: summary.Summary) -> WindowView:
        """One message for the summary's reports: each is claimed, and the claims are settled
        with the message's ts (none claimed: all were posted already, nothing is posted)."""
        with self._thread_locks[told.window_id % len(self._thread_locks)]:
            view, claims = self._outbox.claim_all_in_thread(told.window_id, told.keys)
            together = requester_news.together(
                told.window_id, told.reports, told.needing, len(view.environment_names)
            )
            if claims and together is not None:  # the requester: one message for them too
                self._outbox.news_together(*together)
            if claims:
                channel, thread_ts = thread_of(view)
                text = summary.render_summary(told, len(view.environment_names))
                try:
                    reply = self._client.chat_postMessage(
                        channel=channel, thread_ts=thread_ts, unfurl_links=False, **message(text)
                    )
                except Exception as exc:  # stays owed: the worker offers it again
                    log.error(
                        "posting the summary of MW-%s failed: %s", told.window_id, _slack_error(exc)
                    )
                    self._outbox.none_posted(list(claims.values()))
                else:
                    self._outbox.all_posted(list(claims.values()), str(reply.get("ts")))
        crashpoint.reached("posted")
        self._outbox.reports_posted(told.keys)
        return view

    def _render(self, report: Report) -> tuple[str, list[dict[str, Any]] | None]:
        text = render_report(report, self._labels)
        env = report.environment
        if report.kind is ReportKind.SAVE_STATE_CHANGED:
            return text, [section(text), save_state_choices(env)]
        if report.kind in (ReportKind.BASELINE_QUESTION, ReportKind.BASELINE_UNANSWERED):
            back_on = switched_back_on(report.before, report.after)
            return text, [section(text), baseline_choices(env, back_on)]
        if report.kind is ReportKind.COMMENT_BY_HAND and report.window_id is not None:
            value = comment_value(report.window_id, env, report.detail)
            return text, comment_to_paste(text, value)
        if report.kind is ReportKind.ASSISTED and report.window_id is not None:
            checklist = self._checklists.checklist(report.window_id, env, report.detail)
            if checklist is not None:
                label = self._labels.get(env, env)
                return render_checklist(checklist, label, self._links.get(env, ""))
        return text, None

    def update(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        """Re-render a message in place (a checklist as its steps are done); never raises."""
        try:
            self._client.chat_update(channel=channel, ts=ts, **message(text, blocks))
        except Exception as exc:  # a view of the ledger; the ledger is the truth
            log.error("updating message %s failed: %s", ts, _slack_error(exc))

    def message_payload(
        self, view: WindowView, overlaps: conflicts.Overlaps | None = None
    ) -> dict[str, Any]:
        """The card as chat.postMessage arguments (``overlaps`` when they were just read)."""
        return message(card_text(view), self._card(view, overlaps))

    def _card(
        self, view: WindowView, overlaps: conflicts.Overlaps | None = None
    ) -> list[dict[str, Any]]:
        now = self._clock.now()
        warning = nightly_warning(view, self._nightly, now) if self._nightly else None
        if overlaps is None:
            overlaps = self._windows.overlaps(view)
        return render_card(
            view,
            self._labels,
            now,
            [warning] if warning else [],
            overlaps,
            drivers=self._drivers,
            reader_zone=self._people.zone(view.requester_id) if self._people else None,
        )

    def known_zone(self, user_id: str) -> str | None:
        """The time zone of ``user_id`` if Slack has told it already (never waits for Slack)."""
        return self._people.known_zone(user_id) if self._people else None


def _slack_error(exc: Exception) -> str:
    """Slack's error code, or the exception's type for transport failures."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__
