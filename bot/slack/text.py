"""Text helpers for Slack mrkdwn: escaping, reading slash-command text, time formatting."""

from __future__ import annotations

import re
from datetime import datetime

from bot.domain.actors import api_token_of
from bot.domain.timefmt import local_time, same_clock, this_year, wall_clock

__all__ = [
    "command_text",
    "escape",
    "list_time",
    "local_time",
    "moment",
    "shorten",
    "slack_time",
    "user",
    "without_emoji",
]

# Slack's own markup in a message or command text: <@U1|name>, <#C1|chan>, <!here>, <url|label>.
_MARKUP = re.compile(r"<([@#!][^<>]*|[A-Za-z][A-Za-z0-9+.-]*:[^<>]*)>")
_BROADCASTS = ("here", "channel", "everyone")
# An emoji code (:envelope:, :+1:), not part of a time (10:30:00) or of a longer word.
_EMOJI = re.compile(r"(?<![\w:]):[a-z0-9_+'-]+:(?![\w:]) ?")


def escape(text: str) -> str:
    """Escape user text so it cannot mention the channel or forge links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def command_text(sent: str) -> str:
    """Slash-command text as the person typed it, from the text Slack sends.

    Slack sends what was typed with ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;`` and ``&gt;``,
    so a real angle bracket in it is Slack's own markup (a mention, a channel, a link, when the
    command escapes them): that becomes the text Slack shows for it, and only the three
    entities are decoded, once. The result is plain text, to be escaped again wherever it
    is shown in mrkdwn.
    """
    parts, pos = [], 0
    for markup in _MARKUP.finditer(sent):
        parts.append(_unescape(sent[pos : markup.start()]))
        parts.append(_shown(markup.group(1)))
        pos = markup.end()
    parts.append(_unescape(sent[pos:]))
    return "".join(parts)


def _unescape(text: str) -> str:
    # &amp; last, so that a typed "&lt;" (sent as "&amp;lt;") stays "&lt;".
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _shown(markup: str) -> str:
    """What Slack shows for one piece of its markup (the text between ``<`` and ``>``)."""
    target, _, label = (_unescape(part) for part in markup.partition("|"))
    if target[:1] in ("@", "#"):  # a person or a channel, by id, with its name if Slack sent it
        return target[0] + (label.lstrip(target[0]) or target[1:])
    if target[:1] == "!":  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        word, _, rest = target[1:].partition("^")
        if word in _BROADCASTS:
            return f"@{word}"
        return label or (f"@{rest}" if word == "subteam" else word)
    if not label or label in (target, target.split("://", 1)[-1], target.removeprefix("mailto:")):
        return label or target
    return f"{label} ({target})"


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut between words with "…" when it is longer."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    # Back to the last space, unless that throws most of the text away (one very long word).
    space = cut.rstrip().rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _date(when: datetime, tokens: str, fallback: str) -> str:
    return f"<!date^{int(when.timestamp())}^{tokens}|{fallback}>"


def slack_time(when: datetime, zone: str) -> str:
    """A moment as Slack shows it, each reader in their own zone ("Dec 7, 2026 4:18 AM",
    or "today 4:18 AM"); the fallback, for where Slack cannot format it, is in ``zone``."""
    return _date(when, "{date_short_pretty} {time}", local_time(when, zone))


def list_time(when: datetime, zone: str, now: datetime) -> str:
    """A moment in a list (windows, App Home, history): Slack leaves the year out when it is
    this year for the reader ("Monday, December 7th 4:18 AM"), and so does the fallback."""
    return _date(
        when,
        "{day_divider_pretty} {time}",
        local_time(when, zone, year=not this_year(when, now, zone)),
    )


def moment(when: datetime, zone: str, reader_zone: str | None) -> str:
    """A moment on the card or a confirmation: Slack's date, and the environment's own wall
    time beside it, compactly, when the reader's clock reads otherwise there or the bot does
    not know the reader's zone."""
    shown = slack_time(when, zone)
    if reader_zone is not None and same_clock(when, zone, reader_zone):
        return shown
    # Not in italics: a zone's name has underscores (America/New_York), which would end them.
    return f"{shown} ({wall_clock(when, zone)}, {zone})"


def user(user_id: str) -> str:
    """A user mention; an API caller by its token's name (``API token `servicenow```)."""
    token = api_token_of(user_id)
    if token is not None:
        return f"API token `{token}`"
    return f"<@{user_id}>"


def without_emoji(text: str) -> str:
    """``text`` without Slack's emoji codes, for where nothing turns them into emoji: the
    notification text of a message with blocks (some clients show ``:envelope:`` as typed)."""
    return _EMOJI.sub("", text).strip()
