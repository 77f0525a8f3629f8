"""The direct messages a requester gets (bot.services.requester_news): one line each, with a
link to the window's thread (``with_thread``, which the requester's other direct messages about
a window end with too: bot.slack.notifier.SlackNotifier.direct). Pure functions."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.states import WindowState
from bot.services.reports import ReportKind
from bot.services.requester_news import Moment, News, confirmed
from bot.services.views import WindowView
from bot.slack.forms import REASON_LIMIT
from bot.slack.text import escape, shorten, slack_time, user

# What a report that needs a person asks, in a few words (the thread has the whole of it).
_NEEDS: dict[str, str] = {
    ReportKind.OFF_UNRECOGNISED: "Coursedog's schedule reads a value the bot does not know, "
    "so a person must switch merges off by hand",
    ReportKind.RESTORE_UNRECOGNISED: "Coursedog's schedule reads a value the bot does not "
    "know, so a person must set it back by hand",
    ReportKind.WRITE_REFUSED: "Coursedog refused the bot's write; a person switches by hand "
    "with the checklist",
    ReportKind.OFF_LOCKED: "the merge settings are locked, so Coursedog support must switch "
    "them off",
    ReportKind.RESTORE_LOCKED: "the merge settings are locked, so Coursedog support must set "
    "them back",
    ReportKind.SAVE_STATE_CHANGED: "the enabled saved state changed during the window; "
    "choose what to restore",
    ReportKind.BASELINE_QUESTION: "merges were found off before the window; choose what to "
    "switch back on at the end",
    ReportKind.BASELINE_UNANSWERED: "nothing was restored until someone chooses what to "
    "switch back on",
    ReportKind.ASSISTED: "merges are switched by hand, with the checklist in the thread",
    ReportKind.COMMENT_FAILED: "the Activity comment must be added by hand",
    ReportKind.COMMENT_BY_HAND: "the Activity comment must be added by hand",
}


def render(news: News, view: WindowView, labels: Mapping[str, str], link: str | None) -> str:
    """One line about ``view`` for its requester, ending with a link to its thread (or, when
    Slack gave none, where the thread is; a window without a card has no thread)."""
    return with_thread(_line(news, view, labels), view, link)


def with_thread(text: str, view: WindowView, link: str | None) -> str:
    """``text`` ending with ``link`` to the thread of ``view`` (from chat.getPermalink), or,
    when Slack gave none, the channel the thread is in; a window without a card has no thread,
    and ``text`` is left as it is."""
    if link:
        return f"{text} <{link}|Open the thread>."
    if view.channel_id and view.card_ts:
        return f"{text} Its thread is in <#{view.channel_id}>."
    return text


def _line(news: News, view: WindowView, labels: Mapping[str, str]) -> str:
    env = _env(news.environment, labels)
    if news.moment is Moment.APPROVED:
        return " ".join(
            part
            for part in (
                f":white_check_mark: Your request {view.number} was approved by "
                f"{user(news.actor)}.",
                _when(view),
            )
            if part
        )
    if news.moment is Moment.DENIED:
        why = (
            f" Reason: “{escape(shorten(news.detail, REASON_LIMIT))}”."
            if news.detail
            else " No reason was given."
        )
        return (
            f":x: Your request {view.number} was denied by {user(news.actor)}.{why} "
            "Nothing was switched off."
        )
    if news.count:
        return _together(news, view)
    if news.moment is Moment.OFF:
        if confirmed(news):
            return (
                f":ballot_box_with_check: {view.number}: merges on {env} are off "
                f"({news.schedule}), as confirmed in the checklist (not verified by reading)."
            )
        if news.detail == ReportKind.ALREADY_OFF:
            return (
                f":information_source: {view.number}: no merge on {env} was on, verified by "
                "reading; nothing had to be switched off."
            )
        return f":no_entry: {view.number}: merges on {env} are off, verified by reading back."
    if news.moment is Moment.RESTORED:
        how = "confirmed in the checklist" if confirmed(news) else "verified by reading back"
        if news.detail == ReportKind.NOTHING_TO_RESTORE:
            return f":information_source: {view.number}: nothing on {env} had to be restored."
        return f":white_check_mark: {view.number}: {env} is back to {news.schedule}, {how}."
    need = _NEEDS.get(news.detail, "the thread asks for a person")
    failed = " The window is marked *needs a person*." if news.failed else ""
    return f":raised_hand: {view.number} needs you on {env}: {need}.{failed}"


def _together(news: News, view: WindowView) -> str:
    """``MW-4: merges off and verified on 48 of 50 environments; 2 need you: `a`, `b`.``"""
    if news.moment is Moment.OFF:
        head = f":no_entry: {view.number}: merges off and verified"
    else:
        head = f":white_check_mark: {view.number}: schedules restored and verified"
    line = f"{head} on {news.count} of {news.total} environments"
    if news.needing:
        who = ", ".join(f"`{env}`" for env in news.needing)
        line += f"; {len(news.needing)} need you: {who} (each in its own message)"
    return line + "."


def _when(view: WindowView) -> str:
    if view.starts_at is not None and view.state is WindowState.APPROVED:
        return f"Merges go off at {slack_time(view.starts_at, view.time_zone)}."
    if view.state is WindowState.ACTIVE:
        return "Merges are being switched off now; you will hear when it is verified."
    return ""


def _env(environment: str, labels: Mapping[str, str]) -> str:
    label = labels.get(environment)
    return f"`{environment}` ({escape(label)})" if label else f"`{environment}`"
