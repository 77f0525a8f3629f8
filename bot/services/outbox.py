"""The outbox: the ledger side of everything the bot owes Slack.

A Slack notice is claimed under its dedup key before it is posted, so it is posted once
however many posters try; once Slack has it, its claim is settled with the message's ts; if
Slack refused it, the claim is freed so that a later attempt may post it. A claim whose poster
died between the claim and the post is taken over once it is ``STALE_CLAIM`` old.

A report on a Coursedog outcome is owed in the transaction of its outcome (``owe``) and stays
owed until its notice is posted; one owed for ``GIVE_UP_POSTING`` is written off. What the
requester is told directly is owed the same way (bot.services.requester_news), with the
outcome or the decision it tells of. A request's
approval card is claimed in the request's own transaction (``claim_card``), and a request whose
card was never posted is owed one (``Outbox.cards_owed``).

The Slack side (posting, and the locks that keep a thread in order) is bot.slack.notifier's;
it calls the outbox around each post.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.domain.states import WindowState
from bot.services import requester_news, webhook_events
from bot.services.reports import Report
from bot.services.requester_news import News
from bot.services.views import WindowView
from bot.services.window_moves import load_window
from storage import pending_reports, slack_notices, windows
from storage.db import reading
from storage.models import PendingReport

log = logging.getLogger(__name__)
# A notice claimed this long ago and never posted lost its poster (a crash): post it again.
STALE_CLAIM = timedelta(minutes=5)
# A report Slack would not take for this long is dropped (it was logged each time).
GIVE_UP_POSTING = timedelta(days=1)


def card_key(window_id: int) -> str:
    """The key of the Slack notice that claims the post of a request's approval card."""
    return f"card:{window_id}"


def claim_card(session: Session, window_id: int, channel: str, now: datetime) -> int | None:
    """Claim the post of a new request's card in the request's transaction: whoever answers
    posts it under this claim; if that process stops first, the claim goes stale and a
    periodic pass takes it over (``Outbox.cards_owed``). None when someone holds it."""
    return slack_notices.claim_notice(session, card_key(window_id), channel, None, now)


def owe(session: Session, reports: Sequence[Report], now: datetime) -> None:
    """Keep reports in the ledger, with the outcome they tell of, until they are posted; what
    the requester is to hear of them; and the webhook events those outcomes make."""
    pending_reports.owe_reports(session, [(r.dedup_key, r.to_payload()) for r in reports], now)
    requester_news.owe(session, requester_news.of_reports(reports), now)
    webhook_events.reported(session, reports, now)


def thread_of(view: WindowView) -> tuple[str, str | None]:
    """Where a window's notices go: its card's thread, or the requester when it has no card."""
    if view.channel_id and view.card_ts:
        return view.channel_id, view.card_ts
    return view.requester_id, None


class Outbox:
    """Claims, settles and frees Slack notices; owes, settles and gives up reports; keeps
    where each approval card was posted. Each call is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def claim(self, key: str, channel: str, thread_ts: str | None = None) -> int | None:
        """Reserve ``key`` before posting; the claim's id, or None when it is (being) posted."""
        with self._sessions.begin() as session:
            return self._claim(session, key, channel, thread_ts)

    def claim_in_thread(self, window_id: int, key: str) -> tuple[WindowView, int | None]:
        """The window as it is now and, in the same transaction, the claim of ``key`` in its
        thread (one transaction before a report's post, not a read and then a claim)."""
        with self._sessions.begin() as session:
            view = WindowView.of(load_window(session, window_id, lock=False))
            channel, thread_ts = thread_of(view)
            return view, self._claim(session, key, channel, thread_ts)

    def claim_all_in_thread(
        self, window_id: int, keys: Sequence[str]
    ) -> tuple[WindowView, dict[str, int]]:
        """Like ``claim_in_thread`` for several reports told in one message: the window and,
        in one transaction, the claims taken (a key posted or being posted has none)."""
        with self._sessions.begin() as session:
            view = WindowView.of(load_window(session, window_id, lock=False))
            channel, thread_ts = thread_of(view)
            claims = {key: self._claim(session, key, channel, thread_ts) for key in keys}
            return view, {key: claim for key, claim in claims.items() if claim is not None}

    def all_posted(self, claims: Sequence[int], ts: str) -> None:
        """Slack took one message for all these claims."""
        with self._sessions.begin() as session:
            for claim in claims:
                slack_notices.settle_notice(session, claim, ts)

    def none_posted(self, claims: Sequence[int]) -> None:
        """Slack did not take the message of these claims: free their keys."""
        with self._sessions.begin() as session:
            for claim in claims:
                slack_notices.free_notice(session, claim)

    def reports_posted(self, keys: Sequence[str]) -> None:
        """Like ``report_posted``, for several reports at once."""
        with self._sessions.begin() as session:
            for key in keys:
                pending_reports.settle_report(session, key)

    def posted(self, claim: int, ts: str) -> None:
        """Slack took the claimed notice: keep its ts (a later claim of its key finds it)."""
        with self._sessions.begin() as session:
            slack_notices.settle_notice(session, claim, ts)

    def is_posted(self, key: str) -> bool:
        """Whether Slack has the notice ``key``."""
        with reading(self._sessions) as session:
            return slack_notices.is_posted(session, key)

    def not_posted(self, claim: int) -> None:
        """Slack did not take the claimed notice: free its key for a later attempt."""
        with self._sessions.begin() as session:
            slack_notices.free_notice(session, claim)

    def posted_message(self, key: str) -> tuple[str, str] | None:
        """Where the notice of ``key`` was posted (channel, ts), or None if it was not."""
        with reading(self._sessions) as session:
            return slack_notices.posted_message(session, key)

    def card_posted(self, window_id: int, claim: int, channel: str, ts: str) -> None:
        """Slack took a request's card: attach it to the window and settle its claim, together."""
        with self._sessions.begin() as session:
            windows.attach_card(session, window_id, channel, ts)
            slack_notices.settle_notice(session, claim, ts)

    def attach_card(self, window_id: int, channel: str, ts: str) -> None:
        """Remember where a card posted without a claim (a series' occurrence's) went."""
        with self._sessions.begin() as session:
            windows.attach_card(session, window_id, channel, ts)

    def cards_owed(self) -> list[WindowView]:
        """Requests whose card claim is stale and whose card was never posted (the process
        that took them stopped before posting it)."""
        requested_before = self._clock.now() - STALE_CLAIM
        with reading(self._sessions) as session:
            owed = windows.cards_owed(session, WindowState.REQUESTED, requested_before)
            return [WindowView.of(window) for window in owed]

    def owed_reports(self) -> list[Report]:
        """Reports committed with their outcome but not known to be posted (e.g. a crash).

        Every worker pass asks, and almost always none are owed: the question is a read that
        takes no writer's turn; only reports owed too long to post are written off."""
        with reading(self._sessions) as session:
            rows = pending_reports.owed_reports(session, "report:")
            stale = self._too_old(rows)
            owed = [Report.from_payload(r.payload) for r in rows if r.dedup_key not in stale]
        self._give_up(stale)
        return owed

    def owed_news(self) -> list[News]:
        """What requesters are owed and not known to have been sent (a crash, Slack refused,
        or its poster is at work now); news owed too long to post is written off."""
        with reading(self._sessions) as session:
            rows = pending_reports.owed_reports(session, requester_news.PREFIX)
            stale = self._too_old(rows)
            owed = [News.from_payload(r.payload) for r in rows if r.dedup_key not in stale]
            # Routine news waits for its thread report (a summary may take it in: together).
            unposted = pending_reports.owed_among(session, {n.report for n in owed if n.report})
        self._give_up(stale)
        return [n for n in owed if n.report not in unposted]

    def claim_news(self, news: News) -> tuple[WindowView, int | None]:
        """The window as it is now and, in the same transaction, the claim of the news's
        direct message to its requester (None: posted, or being posted)."""
        with self._sessions.begin() as session:
            view = WindowView.of(load_window(session, news.window_id, lock=False))
            return view, self._claim(session, news.key, view.requester_id, None)

    def news_together(self, news: News, parts: Sequence[News]) -> None:
        """Owe ``news`` in place of ``parts`` (bot.services.requester_news.together), in one
        transaction: what is still owed of the parts is owed no more."""
        with self._sessions.begin() as session:
            for part in parts:
                pending_reports.settle_report(session, part.key, posted_only=False)
            requester_news.owe(session, [news], self._clock.now())

    def news_settled(self, key: str, *, sent: bool = True) -> None:
        """The news's message was posted (or is known posted), or, with ``sent`` False, is
        not to be sent: it is owed no more. If Slack refused it, it stays owed."""
        with self._sessions.begin() as session:
            pending_reports.settle_report(session, key, posted_only=sent)

    def _too_old(self, rows: Sequence[PendingReport]) -> list[str]:
        too_old = self._clock.now() - GIVE_UP_POSTING
        return [r.dedup_key for r in rows if r.created_at < too_old]

    def _give_up(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        with self._sessions.begin() as session:
            for key in keys:
                log.error("giving up posting %s to Slack", key)
                pending_reports.settle_report(session, key, posted_only=False)

    def report_posted(self, key: str) -> None:
        """The report's notice was posted (or is known posted): it is owed no more. If Slack
        refused it, it stays owed and the worker offers it again."""
        with self._sessions.begin() as session:
            pending_reports.settle_report(session, key)

    def _claim(self, session: Session, key: str, channel: str, thread_ts: str | None) -> int | None:
        return slack_notices.claim_notice(
            session, key, channel, thread_ts, self._clock.now(), stale_after=STALE_CLAIM
        )
